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

/**
 * Writes `value` as biome formats it, through a temporary file formatted before it is renamed into place: a
 * reader, or a process killed part-way, only ever sees the previous file or the new one, both committable.
 * Returns the file's text.
 */
export function writeResultJson(file: string, value: unknown, warn: (message: string) => void): string {
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.partial.json`;
  const text = `${JSON.stringify(value, null, 2)}\n`;
  writeFileSync(temporary, text);
  const problem = formatJson(temporary);
  if (problem) warn(problem);
  renameSync(temporary, file);
  return readFileSync(file, 'utf8');
}

/** Formats a JSON file as biome does; returns the problem when biome refuses, else null. */
function formatJson(file: string): string | null {
  const biome = join(ROOT, 'node_modules', '.bin', 'biome');
  if (!existsSync(biome)) return null;
  const formatted = spawnSync(biome, ['format', '--write', file], {
    cwd: ROOT,
    stdio: 'pipe',
    encoding: 'utf8',
  });
  return formatted.status === 0 ? null : `biome did not format ${file}: ${formatted.stderr}`;
}
