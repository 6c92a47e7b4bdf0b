import { ErrorCode, LogLevel, WebClient, type WebClientOptions } from '@slack/web-api';

/** Slack's Web API unless SLACK_API_URL names another base (a test server, or a company's egress proxy). */
export function slackClientOptions(env: NodeJS.ProcessEnv = process.env): WebClientOptions {
  return {
    ...(env.SLACK_API_URL ? { slackApiUrl: env.SLACK_API_URL } : {}),
    // One call should take well under a second; a stuck one is abandoned and retried.
    timeout: 10_000,
    // A 429 waits for its Retry-After inside the client and is then tried again (rejectRateLimitedCalls stays
    // false); other failures get a few quick tries, then Temporal's retries of the activity take over.
    retryConfig: { retries: 3, factor: 2, minTimeout: 1_000, maxTimeout: 10_000 },
    logLevel: LogLevel.WARN,
  };
}

/** A Web API client with the bot token (SLACK_BOT_TOKEN, or the Slack secret's field of that name). */
export function slackWebClient(token: string, env: NodeJS.ProcessEnv = process.env): WebClient {
  return new WebClient(token, slackClientOptions(env));
}

/** Slack's answers that say the call may work later; any other platform error needs a person to act. */
const TRANSIENT = new Set([
  'ratelimited',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
]);

const HINTS: Record<string, string> = {
  not_in_channel: 'invite the bot to the channel (/invite @spikenas)',
  channel_not_found: 'check the channel ID, and invite the bot if the channel is private',
  is_archived: 'the channel is archived; name another one',
  not_authed: 'set SLACK_BOT_TOKEN (or the Slack secret) to the bot token, xoxb-…',
  invalid_auth: 'SLACK_BOT_TOKEN is not a valid bot token',
  token_revoked: 'the bot token was revoked; reinstall the app and update SLACK_BOT_TOKEN',
  missing_scope: 'give the app the chat:write scope and reinstall it',
};

export interface SlackFailure {
  message: string;
  /** False when Slack refused the call for a reason no retry mends (a wrong channel, a bad token). */
  retryable: boolean;
}

/** What a failed Web API call means, with what to do about a refusal. */
export function describeSlackError(method: string, error: unknown): SlackFailure {
  const coded = error as { code?: string; data?: { error?: string }; message?: string };
  if (coded.code === ErrorCode.PlatformError && coded.data?.error) {
    const reason = coded.data.error;
    const hint = HINTS[reason];
    return {
      message: `Slack refused ${method}: ${reason}${hint ? ` (${hint})` : ''}`,
      retryable: TRANSIENT.has(reason),
    };
  }
  // Network errors, timeouts and HTTP errors (5xx, or a 429 the client's own retries did not outlast).
  return { message: `Slack ${method} failed: ${coded.message ?? String(error)}`, retryable: true };
}
