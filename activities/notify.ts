import { asyncLocalStorage } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { readFleetHistory } from '../artifacts/fleet-history.js';
import { openStore } from '../artifacts/index.js';
import { RunArtifacts } from '../artifacts/run.js';
import { ArtifactNotFoundError, type ArtifactStore } from '../artifacts/store.types.js';
import type { RunRef } from '../pipeline/types.js';
import { formatSlackFailure, formatSlackResult, type SlackMessage } from '../slack/messages.js';
import { describeSlackError, slackWebClient } from '../slack/web-client.js';
import type { SearchSummary, SlackDestination } from '../workflows/types.js';

export interface NotifySlackInput {
  /** The search's run folder: the record of the post is kept there, and a fleet's history read from its store. */
  run: RunRef;
  /** Temporal's run ID of the workflow execution that ended: each execution is reported once. */
  execution: string;
  destination: SlackDestination;
  summary?: SearchSummary;
  failure?: string;
}

/** Where a message went; also what is stored, so that a retry finds it. */
export interface SlackPost {
  channel: string;
  ts: string;
}

/**
 * Activity: posts how a search ended with the bot token (chat.postMessage), to the fleet's channel or in the
 * thread under the bot's acknowledgement. It is a workflow step, so the result arrives however long the
 * search took and whether or not the bot restarted meanwhile.
 *
 * Idempotent: the post's ts is stored in the run folder (slack/posted-<execution>.json) and a retry that
 * finds it posts nothing. A retry after a crash between the post and that write would post again; nothing
 * short of reading the channel's history (a scope the bot does not ask for) closes that window.
 */
export async function notifySlack(input: NotifySlackInput): Promise<SlackPost> {
  const store = await openStore(input.run.artifacts);
  const run = new RunArtifacts(store, input.run.runId, { warn });
  const record = `slack/posted-${input.execution}.json`;
  const posted = await readPost(run, record);
  if (posted) return posted;

  const message = input.summary
    ? await resultMessage(store, input.summary)
    : formatSlackFailure(input.run.runId, input.failure ?? 'the search ended without a result');
  const post = await postMessage(input.destination, message);
  // The message is out: from here on nothing may throw, or Temporal's retry would post it again.
  await run.putJson(record, post).catch((error: unknown) => {
    warn(`posted ${post.ts} to ${post.channel} but could not record it: ${(error as Error).message}`);
  });
  return post;
}

async function resultMessage(store: ArtifactStore, summary: SearchSummary): Promise<SlackMessage> {
  if (!summary.fleet) return formatSlackResult(summary);
  return formatSlackResult(summary, await readFleetHistory(store, summary.fleet, warn));
}

async function postMessage(destination: SlackDestination, message: SlackMessage): Promise<SlackPost> {
  const token = process.env.SLACK_BOT_TOKEN;
  if (!token) {
    throw ApplicationFailure.nonRetryable(
      'SLACK_BOT_TOKEN is not set on the worker: set it to the Slack bot token (xoxb-…)',
      'SlackTokenMissing',
    );
  }
  try {
    const result = await slackWebClient(token).chat.postMessage({
      channel: destination.slackChannel,
      ...(destination.slackThreadTs ? { thread_ts: destination.slackThreadTs } : {}),
      ...message,
      unfurl_links: false,
    });
    return { channel: result.channel ?? destination.slackChannel, ts: result.ts ?? '' };
  } catch (error) {
    const failure = describeSlackError('chat.postMessage', error);
    if (failure.retryable) throw new Error(failure.message);
    throw ApplicationFailure.nonRetryable(failure.message, 'SlackPostRefused');
  }
}

/**
 * The stored post, if any. A record that cannot be read (the store itself may be why the search failed) is
 * taken as none: a second message is better than no message about a failure.
 */
async function readPost(run: RunArtifacts, record: string): Promise<SlackPost | undefined> {
  try {
    return await run.getJson<SlackPost>(record);
  } catch (error) {
    if (!(error instanceof ArtifactNotFoundError)) warn(`cannot read ${record}: ${(error as Error).message}`);
    return undefined;
  }
}

/** The activity's logger inside Temporal; the console when called directly (tests). */
function warn(message: string): void {
  const context = asyncLocalStorage.getStore();
  if (context) context.log.warn(message);
  else console.warn(message);
}
