import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { InputError } from '../common/errors.js';
import type { NetConfig } from '../snn/config.js';
import { PRESETS, resolvePreset } from '../snn/presets.js';

const positive = z.number().int().positive();

const netConfigSchema = z
  .object({
    inputShape: z.tuple([positive, positive, positive]),
    numClasses: z.number().int().min(2),
    stemChannels: positive,
    stemStride: positive,
    secondPool: positive,
    classifierHidden: positive,
    populationSize: positive,
    timesteps: positive,
    cellType: z.enum(['forward', 'backward']),
  })
  .strict();

const ALLOWED: Record<string, string> = {
  inputShape: '[height, width, channels] of positive integers',
  cellType: 'forward, backward',
};

/** A network config from a preset name or a JSON file with the NetConfig fields. */
export async function loadNetConfig(presetOrPath: string): Promise<NetConfig> {
  if (presetOrPath in PRESETS) return resolvePreset(presetOrPath);
  if (!presetOrPath.endsWith('.json')) return resolvePreset(presetOrPath);
  let document: unknown;
  try {
    document = JSON.parse(await readFile(presetOrPath, 'utf8'));
  } catch (error) {
    throw new InputError(
      'config',
      `cannot read ${presetOrPath}: ${(error as Error).message}`,
      presetAllowed(),
    );
  }
  const parsed = netConfigSchema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as z.core.$ZodIssue;
    const field = String(issue.path[0] ?? 'config');
    throw new InputError(
      `config.${issue.path.join('.') || field}`,
      issue.message,
      ALLOWED[field] ?? 'a positive integer',
    );
  }
  return parsed.data as NetConfig;
}

function presetAllowed(): string {
  return `${Object.keys(PRESETS).join(', ')}, or a .json file with the NetConfig fields`;
}
