import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { InputError } from '../common/errors.js';
import { parseSize } from '../common/size.js';
import type { SearchRequest } from '../contract/request.js';
import { SEARCHED_WEIGHT_BITS, type WeightBits } from '../search/space/memory.js';
import { PROFILE_NAMES } from '../search/strategy/profiles.js';
import {
  profileSchema,
  SLACK_CHANNEL_ALLOWED,
  slackChannelSchema,
  WEIGHT_BITS_ALLOWED,
  weightBitsSchema,
} from './request.js';

/** One robot fleet and its nightly search. */
export interface Fleet {
  name: string;
  budget: string;
  /** RAM budget of the deployed network for one image (SearchRequest.ramBudget); absent: none. */
  ramBudget?: string;
  /** Widths the fleet's winners may be stored at, widest first (SearchRequest.weightBits). */
  weightBits: WeightBits[];
  dataset: string;
  profile: 'quick' | 'paper';
  /** Standard 5-field cron, e.g. '0 2 * * *'. */
  cron: string;
  /** IANA time zone the cron is read in, e.g. 'Europe/Berlin'. */
  timezone: string;
  seed: number;
  /** Slack channel ID the fleet's scheduled searches post their failure or result to. */
  slackChannel?: string;
}

const fleetSchema = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lowercase letters, digits and dashes'),
  budget: z.string(),
  ramBudget: z.string().optional(),
  weightBits: weightBitsSchema.default([...SEARCHED_WEIGHT_BITS]),
  dataset: z.string().min(1),
  profile: profileSchema.default('quick'),
  cron: z.string().regex(/^\S+( \S+){4}$/, 'must be a 5-field cron expression'),
  timezone: z.string().default('UTC'),
  seed: z.number().int().min(0).default(1),
  slackChannel: slackChannelSchema.optional(),
});

const fleetsFileSchema = z.object({ fleets: z.array(fleetSchema).min(1) }).strict();

const ALLOWED: Record<string, string> = {
  name: 'lowercase letters, digits and dashes, e.g. drone-alpha',
  weightBits: WEIGHT_BITS_ALLOWED,
  profile: PROFILE_NAMES.join(', '),
  cron: "5 fields, e.g. '0 2 * * *'",
  timezone: 'an IANA time zone, e.g. UTC or Europe/Berlin',
  slackChannel: SLACK_CHANNEL_ALLOWED,
};

/** Validates a parsed fleets document; errors name the field as `fleets[i].field`. */
export function parseFleets(document: unknown, source = 'fleets file'): Fleet[] {
  const parsed = fleetsFileSchema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as z.core.$ZodIssue;
    const path = issue.path
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
      .join('')
      .replace(/^\./, '');
    throw new InputError(`${source}: ${path || 'fleets'}`, issue.message, ALLOWED[String(issue.path.at(-1))]);
  }
  const fleets = parsed.data.fleets;
  const seen = new Set<string>();
  fleets.forEach((fleet, i) => {
    if (seen.has(fleet.name))
      throw new InputError(`${source}: fleets[${i}].name`, `'${fleet.name}' appears twice`);
    seen.add(fleet.name);
    parseSize(fleet.budget, `${source}: fleets[${i}].budget`);
    if (fleet.ramBudget !== undefined) parseSize(fleet.ramBudget, `${source}: fleets[${i}].ramBudget`);
    if (!isTimeZone(fleet.timezone)) {
      throw new InputError(
        `${source}: fleets[${i}].timezone`,
        `unknown time zone '${fleet.timezone}'`,
        ALLOWED.timezone,
      );
    }
  });
  return fleets;
}

export async function loadFleets(path: string): Promise<Fleet[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new InputError('fleets', `cannot read '${path}'`, 'a YAML file with a top-level `fleets:` list');
  }
  return parseFleets(parseYaml(text), path);
}

export function findFleet(fleets: Fleet[], name: string): Fleet {
  const fleet = fleets.find((f) => f.name === name);
  if (!fleet) throw new InputError('fleet', `no fleet named '${name}'`, fleets.map((f) => f.name).join(', '));
  return fleet;
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The nightly search a fleet asks for: spikenas mode, with its budget, bits, data and Slack channel. */
export function fleetRequest(fleet: Fleet, artifacts: string, shards: number): SearchRequest {
  return {
    dataset: fleet.dataset,
    budget: fleet.budget,
    ...(fleet.ramBudget ? { ramBudget: fleet.ramBudget } : {}),
    mode: 'spikenas',
    profile: fleet.profile,
    seed: fleet.seed,
    weightBits: fleet.weightBits,
    shards,
    artifacts,
    fleet: fleet.name,
    ...(fleet.slackChannel ? { notify: { slackChannel: fleet.slackChannel } } : {}),
  };
}
