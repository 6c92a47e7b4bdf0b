import { z } from 'zod';
import { STORE_URI_ALLOWED } from '../artifacts/index.js';
import { InputError } from '../common/errors.js';
import { parseSize } from '../common/size.js';
import type { SearchRequest } from '../contract/request.js';
import { DATASET_ALLOWED } from '../datasets/load.js';
import { parseArch } from '../search/space/arch.js';
import {
  normalizeWeightBits,
  SEARCHED_WEIGHT_BITS,
  WEIGHT_BITS,
  type WeightBits,
} from '../search/space/memory.js';
import { PROFILE_NAMES } from '../search/strategy/profiles.js';

export const MODES = ['spikenas', 'snasnet'] as const;
export const MAX_SHARDS = 64;

/** zod schemas of the shared vocabularies, for the request here and the fleets file. */
export const profileSchema = z.enum(PROFILE_NAMES as ['quick', 'paper']);
const weightWidthSchema = z.union(
  WEIGHT_BITS.map((b) => z.literal(b)) as [
    z.ZodLiteral<32>,
    z.ZodLiteral<8>,
    z.ZodLiteral<6>,
    z.ZodLiteral<4>,
  ],
);
/** The widths a search may store weights at: one width (a fleet that fixes it) or a list; widest first. */
export const weightBitsSchema = z
  .union([weightWidthSchema, z.array(weightWidthSchema).min(1)])
  .transform((bits): WeightBits[] => normalizeWeightBits(Array.isArray(bits) ? bits : [bits]));
export const WEIGHT_BITS_ALLOWED = `one of ${WEIGHT_BITS.join(', ')}, or a list of them such as [${SEARCHED_WEIGHT_BITS.join(', ')}]`;

/** Slack channel IDs: C… (public), G… (private), D… (direct message). A `#name` is not an ID. */
export const SLACK_CHANNEL_ALLOWED = 'a Slack channel ID such as C0123ABCD (C…, G… or D…), not a #name';
export const slackChannelSchema = z.string().regex(/^[CGD][A-Z0-9]+$/, 'must be a Slack channel ID');

const searchRequestSchema = z.object({
  dataset: z.string().min(1),
  budget: z.string().nullable(),
  ramBudget: z.string().optional(),
  mode: z.enum(MODES),
  profile: profileSchema,
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1),
  weightBits: weightBitsSchema.default([...SEARCHED_WEIGHT_BITS]),
  shards: z.number().int().min(1).max(MAX_SHARDS),
  artifacts: z.string().min(1),
  fleet: z.string().min(1).optional(),
  include: z.array(z.string()).optional(),
  notify: z
    .object({
      slackChannel: slackChannelSchema,
      // A message's ts, e.g. '1712345678.123456': the thread the result is posted in.
      slackThreadTs: z
        .string()
        .regex(/^\d+\.\d+$/, 'must be a Slack message ts')
        .optional(),
    })
    .optional(),
  holdTraining: z.boolean().optional(),
});

const ALLOWED: Record<string, string> = {
  dataset: DATASET_ALLOWED,
  mode: MODES.join(', '),
  profile: PROFILE_NAMES.join(', '),
  seed: 'an integer from 0 to 4294967295',
  weightBits: WEIGHT_BITS_ALLOWED,
  shards: `an integer from 1 to ${MAX_SHARDS}`,
  artifacts: STORE_URI_ALLOWED,
  'notify.slackChannel': SLACK_CHANNEL_ALLOWED,
  'notify.slackThreadTs': "a Slack message ts such as '1712345678.123456'",
};

/**
 * Checks a search request before any work starts (in the client, and again as the workflow's first,
 * non-retryable step). Throws InputError naming the field and the allowed values.
 */
export function validateSearchRequest(input: unknown): SearchRequest {
  const parsed = searchRequestSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as z.core.$ZodIssue;
    const field = issue.path.join('.') || 'request';
    throw new InputError(field, issue.message, ALLOWED[field] ?? ALLOWED[String(issue.path[0])]);
  }
  const request = parsed.data;
  if (request.budget === null) {
    if (request.mode === 'spikenas')
      throw new InputError('budget', 'is required in spikenas mode', 'a size such as 256KiB');
  } else {
    parseSize(request.budget, 'budget');
  }
  if (request.ramBudget !== undefined) parseSize(request.ramBudget, 'ramBudget');
  request.include?.forEach((arch, i) => {
    try {
      parseArch(arch);
    } catch (error) {
      throw new InputError(`include[${i}]`, (error as Error).message);
    }
  });
  if (
    !request.artifacts.startsWith('s3://') &&
    /^[a-z][a-z0-9+.-]*:\/\//.test(request.artifacts) &&
    !request.artifacts.startsWith('file://')
  ) {
    throw new InputError('artifacts', `unsupported URI '${request.artifacts}'`, ALLOWED.artifacts);
  }
  return request as SearchRequest;
}

/** The request's RAM budget in bytes, or null when it sets none (a validated request parses). */
export function ramBudgetBytes(request: Pick<SearchRequest, 'ramBudget'>): number | null {
  return request.ramBudget === undefined ? null : parseSize(request.ramBudget, 'ramBudget');
}
