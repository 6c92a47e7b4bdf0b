import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InputError } from '../common/errors.js';
import { ArtifactNotFoundError, type ArtifactStore, ArtifactStoreAccessError } from './store.types.js';

/** Temporary files of in-flight puts start with this; list() never shows them. */
const TEMP_PREFIX = '.spikenas-tmp-';

/**
 * Keys are '/'-separated relative paths of plain segments: no '', '.', '..', backslashes or temp names,
 * so a key can never escape the store's folder or collide with an in-flight put.
 */
export function checkKey(key: string): void {
  const segments = key.split('/');
  const bad = segments.find(
    (s) =>
      s === '' ||
      s === '.' ||
      s === '..' ||
      s.includes('\\') ||
      s.includes('\0') ||
      s.startsWith(TEMP_PREFIX),
  );
  if (key.length === 0 || bad !== undefined) {
    throw new InputError(
      'key',
      `'${key}' is not a valid artifact key`,
      `'/'-separated names without empty, '.', '..' or '${TEMP_PREFIX}' segments`,
    );
  }
}

/**
 * An ArtifactStore on a local folder. put writes a temp file in the target's folder, fsyncs it, then
 * renames it over the key (atomic on POSIX), then fsyncs the folder so the rename survives a crash.
 */
export class LocalArtifactStore implements ArtifactStore {
  readonly root: string;
  readonly uri: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.uri = pathToFileURL(this.root).href;
  }

  async put(key: string, body: Uint8Array | string | AsyncIterable<Uint8Array>): Promise<void> {
    const target = this.pathOf(key);
    const folder = dirname(target);
    const temp = join(folder, `${TEMP_PREFIX}${randomBytes(6).toString('hex')}`);
    const handle = await mkdir(folder, { recursive: true })
      .then(() => open(temp, 'wx'))
      .catch((error: unknown) => {
        throw this.explain(error, folder);
      });
    try {
      if (typeof body === 'string' || body instanceof Uint8Array) {
        await handle.writeFile(body);
      } else {
        for await (const chunk of body) await handle.write(chunk);
      }
      await handle.sync();
      await handle.close();
      await rename(temp, target);
    } catch (error) {
      await handle.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    await syncFolder(folder);
  }

  private explain(error: unknown, folder: string): unknown {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const reason = NOT_WRITABLE[code];
    if (reason === undefined) return error;
    return new ArtifactStoreAccessError(
      code,
      pathToFileURL(folder).href,
      `cannot use ${folder}: ${reason} (${code}). Check the artifact store (--out / SPIKENAS_ARTIFACTS, ` +
        `now ${this.root}): it must be a folder this process may write to.`,
    );
  }

  async get(key: string): Promise<Uint8Array> {
    try {
      return new Uint8Array(await readFile(this.pathOf(key)));
    } catch (error) {
      if (isMissing(error)) throw new ArtifactNotFoundError(this.uriOf(key));
      throw this.explain(error, dirname(this.pathOf(key)));
    }
  }

  async exists(key: string): Promise<boolean> {
    const info = await stat(this.pathOf(key)).catch((error: unknown) => {
      if (isMissing(error)) return undefined;
      throw this.explain(error, dirname(this.pathOf(key)));
    });
    return info?.isFile() ?? false;
  }

  async list(prefix: string): Promise<string[]> {
    // Walk only the deepest folder the prefix names; filter the rest by string prefix.
    const slash = prefix.lastIndexOf('/');
    const start = slash < 0 ? '' : prefix.slice(0, slash);
    if (start !== '') checkKey(start);
    const keys: string[] = [];
    await walk(join(this.root, start), start, keys);
    return keys.filter((key) => key.startsWith(prefix)).sort();
  }

  uriOf(key: string): string {
    return pathToFileURL(this.pathOf(key)).href;
  }

  private pathOf(key: string): string {
    checkKey(key);
    const path = join(this.root, ...key.split('/'));
    if (!path.startsWith(this.root + sep)) throw new InputError('key', `'${key}' escapes the store`);
    return path;
  }
}

/** A folder that cannot be made or written: no retry changes that, so it is said plainly. */
const NOT_WRITABLE: Record<string, string> = {
  ENOTDIR: 'a file is in the way of that folder',
  EEXIST: 'a file is in the way of that folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
};

async function walk(folder: string, relative: string, into: string[]): Promise<void> {
  const entries = await readdir(folder, { withFileTypes: true }).catch((error: unknown) => {
    if (isMissing(error) || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw error;
  });
  for (const entry of entries) {
    if (entry.name.startsWith(TEMP_PREFIX)) continue;
    const key = relative === '' ? entry.name : `${relative}/${entry.name}`;
    if (entry.isDirectory()) await walk(join(folder, entry.name), key, into);
    else if (entry.isFile()) into.push(key);
  }
}

async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT';
}
