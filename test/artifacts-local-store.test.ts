import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalArtifactStore, openStore } from '../artifacts/index.js';
import { ArtifactNotFoundError } from '../artifacts/store.types.js';
import { InputError } from '../common/errors.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spikenas-store-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

async function* chunks(parts: string[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield new TextEncoder().encode(part);
}

/** Every file under a folder, recursively, relative paths. */
async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(folder.length + 1));
}

describe('LocalArtifactStore', () => {
  it('puts strings, bytes and streams, and gets, lists and names them', async () => {
    const store = new LocalArtifactStore(dir);
    await store.put('runs/a/config.json', '{"x":1}');
    await store.put('runs/a/weights/weights.bin', new Uint8Array([1, 2, 3]));
    await store.put('runs/b/candidates.jsonl', chunks(['{"a":1}\n', '{"a":2}\n']));
    expect(text(await store.get('runs/a/config.json'))).toBe('{"x":1}');
    expect(Array.from(await store.get('runs/a/weights/weights.bin'))).toEqual([1, 2, 3]);
    expect(await readFile(join(dir, 'runs/b/candidates.jsonl'), 'utf8')).toBe('{"a":1}\n{"a":2}\n');
    expect(await store.list('runs/')).toEqual([
      'runs/a/config.json',
      'runs/a/weights/weights.bin',
      'runs/b/candidates.jsonl',
    ]);
    expect(await store.list('runs/a/w')).toEqual(['runs/a/weights/weights.bin']);
    expect(await store.list('nothing/here/')).toEqual([]);
    expect(await store.exists('runs/a/config.json')).toBe(true);
    expect(await store.exists('runs/a')).toBe(false);
    expect(await store.exists('runs/zzz.json')).toBe(false);
    expect(store.uri).toBe(pathToFileURL(dir).href);
    expect(store.uriOf('runs/a/config.json')).toBe(pathToFileURL(join(dir, 'runs/a/config.json')).href);
    await expect(store.get('runs/a/missing.json')).rejects.toBeInstanceOf(ArtifactNotFoundError);
  });

  it('replaces an object whole', async () => {
    const store = new LocalArtifactStore(dir);
    await store.put('k.txt', 'a much longer first version');
    await store.put('k.txt', 'short');
    expect(text(await store.get('k.txt'))).toBe('short');
  });

  it('keeps the old object and leaves no temp file when a streaming put fails midway', async () => {
    const store = new LocalArtifactStore(dir);
    await store.put('runs/r/winner.json', 'old');
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield new TextEncoder().encode('new and half');
      throw new Error('producer died');
    }
    await expect(store.put('runs/r/winner.json', failing())).rejects.toThrow('producer died');
    expect(text(await store.get('runs/r/winner.json'))).toBe('old');
    expect(await filesUnder(dir)).toEqual(['runs/r/winner.json']);
    expect(await store.list('')).toEqual(['runs/r/winner.json']);
  });

  it('shows readers the old object while a put is in flight, the new one after', async () => {
    const store = new LocalArtifactStore(dir);
    await store.put('obj', 'old');
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let firstChunkWritten: () => void = () => undefined;
    const started = new Promise<void>((resolve) => {
      firstChunkWritten = resolve;
    });
    async function* slow(): AsyncGenerator<Uint8Array> {
      yield new TextEncoder().encode('new-part-1;');
      firstChunkWritten();
      await gate;
      yield new TextEncoder().encode('new-part-2');
    }
    const putting = store.put('obj', slow());
    await started;
    // Give the first chunk time to reach the temp file.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(text(await store.get('obj'))).toBe('old');
    expect(await store.list('')).toEqual(['obj']);
    expect((await filesUnder(dir)).length).toBe(2);
    release();
    await putting;
    expect(text(await store.get('obj'))).toBe('new-part-1;new-part-2');
    expect(await filesUnder(dir)).toEqual(['obj']);
  });

  it('rejects keys that could escape the folder or are not plain paths', async () => {
    const store = new LocalArtifactStore(dir);
    for (const key of ['', '../x', 'a/../../x', '/abs', 'a//b', 'a/./b', 'a\\b', 'trailing/']) {
      await expect(store.put(key, 'x'), key).rejects.toBeInstanceOf(InputError);
    }
    expect(await filesUnder(dir)).toEqual([]);
  });

  it('many concurrent puts of different keys all land', async () => {
    const store = new LocalArtifactStore(dir);
    const keys = Array.from({ length: 40 }, (_, i) => `runs/r${i % 4}/stages/s${i}.json`);
    await Promise.all(keys.map((key) => store.put(key, key)));
    expect(await store.list('runs/')).toEqual([...keys].sort());
    for (const key of keys) expect(text(await store.get(key))).toBe(key);
  });
});

describe('openStore', () => {
  it('opens plain paths and file:// URIs as local folders', async () => {
    const byPath = await openStore(dir);
    const byUri = await openStore(pathToFileURL(join(dir, 'sub')).href);
    expect(byPath).toBeInstanceOf(LocalArtifactStore);
    expect(byPath.uri).toBe(pathToFileURL(dir).href);
    expect(byUri.uri).toBe(pathToFileURL(join(dir, 'sub')).href);
    await byUri.put('x.json', '1');
    expect(await byPath.exists('sub/x.json')).toBe(true);
  });

  it('rejects other schemes and empty URIs naming what is allowed', async () => {
    for (const uri of ['gs://bucket/x', 'http://example.com/a', '  ']) {
      const error = await openStore(uri).catch((e: unknown) => e);
      expect(error, uri).toBeInstanceOf(InputError);
      expect((error as InputError).field).toBe('artifacts');
      expect((error as Error).message).toContain('a folder path, file://…, or s3://bucket/prefix');
    }
  });
});
