import { asyncLocalStorage } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { openStore } from '../artifacts/index.js';
import { RunArtifacts } from '../artifacts/run.js';
import { ArtifactNotFoundError } from '../artifacts/store.types.js';
import { describeSlackError, slackWebClient } from '../client/slack-web.js';
import type { SlackDestination } from '../contract/request.js';
import type { SearchSummary } from '../contract/summary.js';
import type { RunRef } from '../pipeline/types.js';
import { readFleetHistory } from '../reports/fleet-history.js';
import { formatSlackFailure, formatSlackResult, type SlackMessage } from '../reports/slack-messages.js';

export interface NotifySlackInput {
  /**
   * The search's run folder: the record of the post is kept there, and a fleet's history read from its
   * store. Its execution (the workflow's run ID) keys the post: each execution is reported once.
   */
  run: RunRef;
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
  const record = `slack/posted-${input.run.execution}.json`;
  if (input.summary) {
    // A completed search has just written to its store: here the store must work, for the record and the history.
    const run = await openRun(input.run);
    return (
      (await readPost(run, record)) ??
      postAndRecord(input.destination, await resultMessage(run, input.summary), run, record)
    );
  }
  // A failure may be the store's own (no such bucket, no credentials): it is told even if the record cannot be kept.
  const run = await openRun(input.run).catch((error: unknown) => {
    warn(`cannot open ${input.run.artifacts} to keep the record of the post: ${(error as Error).message}`);
    return undefined;
  });
  const posted = run && (await readPost(run, record));
  const failure = formatSlackFailure(input.run.runId, input.failure ?? 'the search ended without a result');
  return posted ?? postAndRecord(input.destination, failure, run, record);
}

async function openRun(ref: RunRef): Promise<RunArtifacts> {
  return new RunArtifacts(await openStore(ref.artifacts), ref.runId, { warn });
}

async function postAndRecord(
  destination: SlackDestination,
  message: SlackMessage,
  run: RunArtifacts | undefined,
  record: string,
): Promise<SlackPost> {
  const post = await postMessage(destination, message);
  // The message is out: from here on nothing may throw, or Temporal's retry would post it again.
  await run?.putJson(record, post).catch((error: unknown) => {
    warn(`posted ${post.ts} to ${post.channel} but could not record it: ${(error as Error).message}`);
  });
  return post;
}

async function resultMessage(run: RunArtifacts, summary: SearchSummary): Promise<SlackMessage> {
  if (!summary.fleet) return formatSlackResult(summary);
  return formatSlackResult(summary, await readFleetHistory(run.store, summary.fleet, warn));
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
