import { resolve } from 'node:path';
import { InputError } from '../common/errors.js';
import { type Fleet, loadFleets } from '../config/fleets.js';
import { MAX_SHARDS } from '../config/request.js';
import type { SearchRequest } from '../contract/request.js';
import { type SlackAuthConfig, slackAuthFromEnv } from './auth.js';

/** What the bot reads at start, beside Slack's secrets: the fleets, who may use it, and request defaults. */
export interface BotSettings {
  fleets: Fleet[];
  auth: SlackAuthConfig;
  requestDefaults: Pick<SearchRequest, 'artifacts' | 'shards'>;
}

export const DEFAULT_FLEETS_FILE = 'fleets.yaml';

/**
 * SPIKENAS_FLEETS (default fleets.yaml), SPIKENAS_SLACK_ALLOWED_*, SPIKENAS_ARTIFACTS (default
 * ./.spikenas/artifacts made absolute, as the CLI), SPIKENAS_SHARDS (default 1).
 */
export async function botSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<BotSettings> {
  const shardsText = env.SPIKENAS_SHARDS ?? '1';
  const shards = Number(shardsText);
  if (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS) {
    throw new InputError(
      'SPIKENAS_SHARDS',
      `'${shardsText}' is not a shard count`,
      `an integer from 1 to ${MAX_SHARDS}`,
    );
  }
  return {
    fleets: await loadFleets(env.SPIKENAS_FLEETS ?? DEFAULT_FLEETS_FILE),
    auth: slackAuthFromEnv(env),
    // Absolute, as the CLI's default: the workers resolve a relative path against their own folder.
    requestDefaults: { artifacts: env.SPIKENAS_ARTIFACTS ?? resolve('.spikenas', 'artifacts'), shards },
  };
}

/** A required secret or setting; the error names the variable rather than failing later inside Bolt. */
export function requireEnv(env: NodeJS.ProcessEnv, name: string, allowed: string): string {
  const value = env[name];
  if (value === undefined || value === '') throw new InputError(name, 'is not set', allowed);
  return value;
}
