import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { InputError } from '../common/errors.js';
import { spatialSizes } from '../search/space/memory.js';
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
  numClasses: 'an integer >= 2',
  cellType: 'forward, backward',
};
const FIELDS = Object.keys(netConfigSchema.shape);

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
  if (!parsed.success) throw configIssue(presetOrPath, document, parsed.error.issues[0] as z.core.$ZodIssue);
  checkBuildable(parsed.data as NetConfig);
  return parsed.data as NetConfig;
}

/** The first problem of a config file, with the field, the value found and what the field allows. */
function configIssue(path: string, document: unknown, issue: z.core.$ZodIssue): InputError {
  const fieldsAllowed = `a JSON object with the fields ${FIELDS.join(', ')}`;
  if (issue.path.length === 0) {
    if (issue.code === 'unrecognized_keys') {
      return new InputError('config', `${path} has unknown fields ${issue.keys.join(', ')}`, fieldsAllowed);
    }
    return new InputError('config', `${path} holds ${describeJson(document)}`, fieldsAllowed);
  }
  const field = String(issue.path[0]);
  const value = issue.path.reduce<unknown>(
    (at, key) => (at as Record<PropertyKey, unknown> | undefined)?.[key as PropertyKey],
    document,
  );
  const problem =
    value === undefined ? `is missing in ${path}` : `${JSON.stringify(value)} in ${path}: ${issue.message}`;
  return new InputError(`config.${issue.path.join('.')}`, problem, ALLOWED[field] ?? 'a positive integer');
}

function describeJson(value: unknown): string {
  if (Array.isArray(value)) return 'a JSON array';
  if (value === null) return 'null';
  return `a JSON ${typeof value}`;
}

/**
 * Refuses a config that cannot build a network: the stem's stride and the two pools must leave at least
 * one pixel for the head. Checked before any work starts, naming the field to change.
 */
export function checkBuildable(config: NetConfig): void {
  const { cell1, cell2, head } = spatialSizes(config);
  const [h, w] = config.inputShape;
  if (cell2[0] < 1 || cell2[1] < 1) {
    // The down block halves cell 1's maps, so they need 2 pixels a side: a stride of at most H - 1.
    const side = Math.min(h, w);
    throw new InputError(
      'config.stemStride',
      `${config.stemStride} leaves ${cell1[0]}x${cell1[1]} pixels after the stem of a ${h}x${w} input, ` +
        "too few for the down block's 2x2 pool",
      side < 2 ? 'an input of at least 2x2' : `1..${side - 1} for a ${h}x${w} input`,
    );
  }
  if (head[0] < 1 || head[1] < 1) {
    throw new InputError(
      'config.secondPool',
      `${config.secondPool} pools the ${cell2[0]}x${cell2[1]} maps of cell 2 to nothing`,
      `1..${Math.min(cell2[0], cell2[1])} for this input shape and stem stride`,
    );
  }
}

function presetAllowed(): string {
  return `${Object.keys(PRESETS).join(', ')}, or a .json file with the NetConfig fields`;
}
