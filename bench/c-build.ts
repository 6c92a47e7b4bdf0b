/**
 * Builds and runs a C export as a user's firmware build would: gcc -std=c99 -Wall -Wextra -Werror -O2 on the
 * exported source, `size -A` on its object file, and a small driver that classifies images read from
 * stdin. The test of the C export and its agreement benchmark share this.
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { C_SOURCE } from '../deploy/c.js';

export const GCC_FLAGS = ['-std=c99', '-Wall', '-Wextra', '-Werror', '-O2'];

/** Reads raw images (H*W*C bytes each) from stdin; prints the two byte constants, then one class per image. */
const DRIVER = `#include <stdio.h>
#include "spikenas_model.h"

int main(void) {
    static uint8_t image[SPIKENAS_HEIGHT * SPIKENAS_WIDTH * SPIKENAS_CHANNELS];
    printf("%lu %lu\\n", (unsigned long)spikenas_flash_bytes, (unsigned long)spikenas_ram_bytes);
    while (fread(image, 1, sizeof image, stdin) == sizeof image) printf("%d\\n", spikenas_classify(image));
    return 0;
}
`;

/** Section sizes of the model's object file, as `size -A` prints them. */
export interface ObjectSizes {
  text: number;
  bss: number;
  data: number;
  /** .rodata: the model's constant struct and the two size_t constants. */
  rodata: number;
  /** .rodata.cst*: the compiler's literal pools (the code's own float constants). */
  literals: number;
}

export interface BuiltExport {
  binary: string;
  object: ObjectSizes;
}

function run(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.status}): ${result.stderr}${result.error ?? ''}`,
    );
  }
  return result.stdout;
}

/** Compiles DIR/spikenas_model.c to an object file, measures it, and links the driver. */
export function buildExport(dir: string): BuiltExport {
  run('gcc', [...GCC_FLAGS, '-c', C_SOURCE, '-o', 'spikenas_model.o'], dir);
  const sections = new Map<string, number>();
  for (const line of run('size', ['-A', 'spikenas_model.o'], dir).split('\n')) {
    const match = /^(\.\S+)\s+(\d+)\s+\d+$/.exec(line.trim());
    if (match) sections.set(match[1] as string, Number(match[2]));
  }
  const sum = (test: (name: string) => boolean) =>
    [...sections].filter(([name]) => test(name)).reduce((total, [, bytes]) => total + bytes, 0);
  writeFileSync(join(dir, 'driver.c'), DRIVER);
  run('gcc', [...GCC_FLAGS, '-I.', 'driver.c', 'spikenas_model.o', '-o', 'classify'], dir);
  return {
    binary: join(dir, 'classify'),
    object: {
      text: sections.get('.text') ?? 0,
      bss: sections.get('.bss') ?? 0,
      data: sections.get('.data') ?? 0,
      rodata: sections.get('.rodata') ?? 0,
      literals: sum((name) => name.startsWith('.rodata.cst')),
    },
  };
}

export interface CClassification {
  flashBytes: number;
  ramBytes: number;
  classes: number[];
}

/** Runs the driver on raw uint8 images, in order. */
export function classifyWithC(binary: string, pixels: Uint8Array): Promise<CClassification> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${binary} exited ${code}: ${stderr}`));
      const [constants = '', ...lines] = stdout.trim().split('\n');
      const [flashBytes, ramBytes] = constants.split(' ').map(Number) as [number, number];
      resolve({ flashBytes, ramBytes, classes: lines.map(Number) });
    });
    child.stdin.end(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength));
  });
}
