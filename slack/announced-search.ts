import type { WebClient } from '@slack/web-api';
import { describeSlackError } from '../client/slack-web.js';
import type { Fleet } from '../config/fleets.js';
import type { SearchRequest } from '../contract/request.js';
import type { SearchControl } from './search-control.js';

export interface AnnouncedSearch {
  request: SearchRequest;
  fleet: Fleet;
  /** A search that overrides the fleet's budget or dataset gets an ID of its own. */
  fresh: boolean;
  channel: string;
  user: string;
}

/**
 * Starts a search from a slash command and announces it in the command's channel; the workflow posts its
 * result in the thread under that announcement. The announcement comes first, because the workflow is
 * started with its ts. Returns what the caller is told privately.
 */
export async function startAnnouncedSearch(
  slack: { client: WebClient; searches: SearchControl; botToken: string | undefined },
  search: AnnouncedSearch,
): Promise<string> {
  const { client } = slack;
  const { request, fleet, channel } = search;
  if (!slack.botToken) {
    return 'This bot has no bot token (SLACK_BOT_TOKEN) to post the result with, so it started no search.';
  }
  const what = `for fleet *${fleet.name}* (budget ${request.budget}, dataset ${request.dataset})`;
  const { ts } = await slackCall('chat.postMessage', () =>
    client.chat.postMessage({ channel, text: `<@${search.user}> asked for a search ${what}.` }),
  );
  const thread = ts as string;
  const withdraw = () => slackCall('chat.delete', () => client.chat.delete({ channel, ts: thread }));
  const started = await slack.searches
    .start(
      { ...request, notify: { slackChannel: channel, slackThreadTs: thread } },
      { timeZone: fleet.timezone, fresh: search.fresh },
    )
    .catch(async (error: unknown) => {
      await withdraw();
      throw error;
    });
  const { workflowId } = started;
  const status = `\`/spikenas status ${workflowId}\``;
  if (started.alreadyRunning) {
    // That search reports where it was started; this announcement would wait for nothing.
    await withdraw();
    return (
      `Fleet *${fleet.name}* already has today's search \`${workflowId}\` (running or done); see ${status}. ` +
      'Give budget= or dataset= for a separate search.'
    );
  }
  // Naming the workflow in the announcement is a courtesy: the search runs and reports in the thread regardless.
  await client.chat
    .update({
      channel,
      ts: thread,
      text: `<@${search.user}> started search \`${workflowId}\` ${what}. The result will be posted in this thread.`,
    })
    .catch(() => undefined);
  return `Started search \`${workflowId}\` ${what}. Its result will be posted in the thread under its announcement; ${status} shows progress.`;
}

/** A Web API call whose refusal reaches the caller with what to do about it (invite the bot, fix the token). */
async function slackCall<T>(method: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new Error(describeSlackError(method, error).message, { cause: error });
  }
}
