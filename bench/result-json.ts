/**
 * Benchmark and study results are committed under bench/results/ and checked by `biome check`: they are
 * written as biome formats them. Without biome (an installation without dev dependencies) the plain
 * 2-space JSON stays, which `npm run format` fixes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Writes `value` as 2-space JSON through a temporary file (a reader never sees half a file). */
export function writeJson(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.partial`;
  writeFileSync(temporary, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(temporary, file);
}

/** Formats a written JSON file as biome does; returns the problem when biome refuses, else null. */
export function formatJson(file: string): string | null {
  const biome = join(ROOT, 'node_modules', '.bin', 'biome');
  if (!existsSync(biome)) return null;
  const formatted = spawnSync(biome, ['format', '--write', file], {
    cwd: ROOT,
    stdio: 'pipe',
    encoding: 'utf8',
  });
  return formatted.status === 0 ? null : `biome did not format ${file}: ${formatted.stderr}`;
}

/** writeJson then formatJson; returns the file's text. */
export function writeResultJson(file: string, value: unknown, warn: (message: string) => void): string {
  writeJson(file, value);
  const problem = formatJson(file);
  if (problem) warn(problem);
  return readFileSync(file, 'utf8');
}
