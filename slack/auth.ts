import { InputError } from '../common/errors.js';

/**
 * Who may run searches from Slack. A request must match all three lists; `*` in a list admits
 * any ID there. An empty list admits nobody, so a bot started without configuration refuses everyone.
 */
export interface SlackAuthConfig {
  teams: readonly string[];
  channels: readonly string[];
  users: readonly string[];
}

export interface SlackCaller {
  teamId: string;
  channelId: string;
  userId: string;
}

export type SlackAuthDecision = { allowed: true } | { allowed: false; reason: string };

export const SLACK_AUTH_ENV = {
  teams: 'SPIKENAS_SLACK_ALLOWED_TEAMS',
  channels: 'SPIKENAS_SLACK_ALLOWED_CHANNELS',
  users: 'SPIKENAS_SLACK_ALLOWED_USERS',
} as const;

// Slack IDs are upper-case letters and digits (T…, C…/G…/D…, U…/W…); a lower-case entry is a typo, not an ID.
const SLACK_ID = /^[A-Z0-9]+$/;

/** Reads the three comma lists from the environment; throws InputError on an entry that cannot be a Slack ID. */
export function slackAuthFromEnv(env: NodeJS.ProcessEnv = process.env): SlackAuthConfig {
  return {
    teams: parseIdList(SLACK_AUTH_ENV.teams, env[SLACK_AUTH_ENV.teams]),
    channels: parseIdList(SLACK_AUTH_ENV.channels, env[SLACK_AUTH_ENV.channels]),
    users: parseIdList(SLACK_AUTH_ENV.users, env[SLACK_AUTH_ENV.users]),
  };
}

function parseIdList(field: string, text: string | undefined): string[] {
  const ids = (text ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  for (const id of ids) {
    if (id !== '*' && !SLACK_ID.test(id)) {
      throw new InputError(field, `'${id}' is not a Slack ID`, 'comma-separated IDs such as T0123ABCD, or *');
    }
  }
  return ids;
}

export function authoriseSlackCaller(config: SlackAuthConfig, caller: SlackCaller): SlackAuthDecision {
  // The reason names the ID, so whoever sets the bot up can copy it into the right list.
  const checks: [readonly string[], string, string][] = [
    [config.teams, caller.teamId, 'workspace'],
    [config.channels, caller.channelId, 'channel'],
    [config.users, caller.userId, 'user'],
  ];
  for (const [allowed, id, what] of checks) {
    if (!allowed.includes('*') && !allowed.includes(id)) {
      return { allowed: false, reason: `this ${what} (${id}) is not allowed to run spikenas searches` };
    }
  }
  return { allowed: true };
}
