import type { types } from '@slack/bolt';
import { asyncLocalStorage } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { formatSize } from '../common/size.js';
import type { SearchSummary } from '../workflows/types.js';

export interface NotifySlackInput {
  /** Slack's response_url from the slash command that started the search. */
  responseUrl: string;
  summary?: SearchSummary;
  failure?: string;
  /** Names the search in a failure message; defaults to the calling workflow's ID. A summary has its own. */
  workflowId?: string;
}

/** The JSON body Slack accepts at a response_url. */
export interface SlackMessage {
  response_type: 'in_channel' | 'ephemeral';
  replace_original?: boolean;
  /** Shown in notifications and by clients that cannot draw blocks. */
  text: string;
  blocks?: types.KnownBlock[];
}

/** One POST should take well under a second; longer means Slack or the network is stuck, and a retry is better. */
export const NOTIFY_TIMEOUT_MS = 10_000;
// Slack rejects a section whose text is longer than 3000 characters.
const SECTION_TEXT_LIMIT = 3000;

/**
 * Activity: posts a finished search (or its failure) to the channel the command came from.
 * It runs as a workflow step so the result still arrives if the bot restarted meanwhile. Network errors,
 * timeouts, 429 and 5xx throw plain errors that Temporal retries; other 4xx answers mean the URL is wrong
 * or expired (Slack keeps one for 30 minutes), which no retry mends, so they fail without retry.
 */
export async function notifySlack(input: NotifySlackInput): Promise<void> {
  const url = parseResponseUrl(input.responseUrl);
  const message = input.summary
    ? formatSlackResult(input.summary)
    : formatSlackFailure(
        input.workflowId ?? asyncLocalStorage.getStore()?.info.workflowExecution?.workflowId ?? null,
        input.failure ?? 'the search ended without a result',
      );
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(message),
    signal: AbortSignal.timeout(NOTIFY_TIMEOUT_MS),
  });
  if (response.ok) return;
  const detail = `Slack answered ${response.status} ${response.statusText}: ${(await response.text()).slice(0, 200)}`;
  const retryable = response.status >= 500 || response.status === 429 || response.status === 408;
  if (retryable) throw new Error(detail);
  throw ApplicationFailure.nonRetryable(detail, 'SlackResponseUrlRejected');
}

function parseResponseUrl(text: string): URL {
  const url = URL.canParse(text) ? new URL(text) : null;
  if (url === null || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw ApplicationFailure.nonRetryable(
      `responseUrl '${text}' is not an http(s) URL`,
      'InvalidResponseUrl',
    );
  }
  return url;
}

/** Block Kit message for a finished search: winner matrix, memory against budget, accuracy, report. */
export function formatSlackResult(summary: SearchSummary): SlackMessage {
  const title = summary.fleet ? `SpikeNAS search for ${summary.fleet} finished` : 'SpikeNAS search finished';
  const memory = formatMemory(summary);
  const accuracy = `${formatPercent(summary.accuracy)} at ${summary.weightBits}-bit weights`;
  return {
    response_type: 'in_channel',
    replace_original: false,
    text: `${title}: winner ${summary.winner}, ${memory}, accuracy ${accuracy}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: title.slice(0, 150) } },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: `*Winner cell*\n\`\`\`${formatMatrix(summary.winner)}\`\`\`` },
          {
            type: 'mrkdwn',
            text:
              `*Memory*\n${memory}\n` +
              `${summary.params.toLocaleString('en-US')} params, neuron state ${formatSize(summary.stateBytes)}`,
          },
          {
            type: 'mrkdwn',
            text:
              `*Accuracy*\n${accuracy}\n` +
              `${formatPercent(summary.accuracyBeforeQuantization)} before quantization`,
          },
          { type: 'mrkdwn', text: `*SAHD score*\n${summary.sahdScore.toFixed(2)}` },
        ],
      },
      { type: 'section', text: { type: 'mrkdwn', text: `*Report* ${formatLink(summary.artifacts.report)}` } },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text:
              `\`${summary.workflowId}\` · mode ${summary.mode} · seed ${summary.seed} · ` +
              `backend ${summary.backend}`,
          },
        ],
      },
    ],
  };
}

/** Block Kit message for a search that failed, was cancelled or found no candidate within the budget. */
export function formatSlackFailure(workflowId: string | null, failure: string): SlackMessage {
  const title = workflowId
    ? `SpikeNAS search \`${workflowId}\` did not finish`
    : 'SpikeNAS search did not finish';
  const text = `${title}: ${failure}`.slice(0, SECTION_TEXT_LIMIT);
  return {
    response_type: 'in_channel',
    replace_original: false,
    text,
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }],
  };
}

/** `0302 0030 3003 0000` -> one row per line, as the matrix is read. */
function formatMatrix(winner: string): string {
  return winner.trim().split(/\s+/).join('\n');
}

function formatMemory(summary: SearchSummary): string {
  const weights = formatSize(summary.weightBytes);
  if (summary.budgetBytes === null) return `${weights} of weights (no budget)`;
  const share = ((100 * summary.weightBytes) / summary.budgetBytes).toFixed(1);
  const verdict = summary.weightBytes <= summary.budgetBytes ? 'within' : 'OVER';
  return `${weights} of ${formatSize(summary.budgetBytes)} budget (${share}%, ${verdict})`;
}

/** Accuracies in a SearchSummary are fractions in [0, 1]. */
function formatPercent(fraction: number): string {
  return `${(100 * fraction).toFixed(2)}%`;
}

/** http(s) reports become links; s3:// and file:// URIs cannot be opened from Slack, so they are shown as code. */
function formatLink(uri: string): string {
  return /^https?:\/\//.test(uri) ? `<${uri}|${uri}>` : `\`${uri}\``;
}
