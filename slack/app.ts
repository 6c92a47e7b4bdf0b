import { App, type LogLevel, type Receiver, type RespondArguments, type RespondFn } from '@slack/bolt';
import { slackClientOptions } from '../client/slack-web.js';
import { InputError } from '../common/errors.js';
import { type Fleet, findFleet, fleetRequest } from '../config/fleets.js';
import { validateSearchRequest } from '../config/request.js';
import type { SearchRequest } from '../contract/request.js';
import { formatSlackFailure, formatSlackResult, type SlackMessage } from '../reports/slack-messages.js';
import { startAnnouncedSearch } from './announced-search.js';
import { authoriseSlackCaller, type SlackAuthConfig } from './auth.js';
import { parseSlashCommand, type SlackCommand, USAGE } from './command.js';
import type { SearchControl, SearchDescription } from './search-control.js';

export const SLASH_COMMAND = '/spikenas';

export interface SlackBotDeps {
  /** HTTPReceiver for the server, AwsLambdaReceiver for Lambda; either verifies Slack's signatures. */
  receiver: Receiver;
  searches: SearchControl;
  fleets: Fleet[];
  auth: SlackAuthConfig;
  /** What a fleet does not say: where artifacts go and how many shards the search uses. */
  requestDefaults: Pick<SearchRequest, 'artifacts' | 'shards'>;
  /**
   * The bot token (xoxb-…): a search is announced in its channel with it, and its result is posted in
   * that thread by the workers. Without one the bot answers status, cancel and fleets but starts no search.
   */
  botToken?: string;
  logLevel?: LogLevel;
}

/** Builds the Bolt app with the `/spikenas` command; the server, the Lambda and the tests share it. */
export function createSlackApp(deps: SlackBotDeps): App {
  const app = new App({
    receiver: deps.receiver,
    logLevel: deps.logLevel,
    clientOptions: slackClientOptions(),
    // Without a token Bolt demands an authorize function; status, cancel and fleets need no Web API token.
    ...(deps.botToken ? { token: deps.botToken } : { authorize: async () => ({}) }),
  });

  app.command(SLASH_COMMAND, async ({ command, ack, respond, client }) => {
    let parsed: SlackCommand;
    try {
      parsed = parseSlashCommand(command.text);
    } catch (error) {
      await ack(ephemeral(usageFor(error)));
      return;
    }
    if (parsed.kind === 'help') {
      await ack(ephemeral(USAGE));
      return;
    }
    const decision = authoriseSlackCaller(deps.auth, {
      teamId: command.team_id,
      channelId: command.channel_id,
      userId: command.user_id,
    });
    if (!decision.allowed) {
      await ack(ephemeral(`Sorry, ${decision.reason}. Ask whoever runs the spikenas bot to add it.`));
      return;
    }
    switch (parsed.kind) {
      case 'fleets':
        await ack(ephemeral(formatFleets(deps.fleets)));
        return;
      case 'search': {
        let fleet: Fleet;
        let request: SearchRequest;
        try {
          fleet = findFleet(deps.fleets, parsed.fleet);
          request = searchRequestFor(parsed, fleet, deps.requestDefaults);
        } catch (error) {
          await ack(ephemeral(usageFor(error)));
          return;
        }
        // Slack gives up after 3 s: acknowledge first, then talk to Slack and Temporal, and answer the caller
        // through response_url.
        await ack();
        await answer(respond, () =>
          startAnnouncedSearch(
            { client, searches: deps.searches, botToken: deps.botToken },
            {
              request,
              fleet,
              fresh: parsed.budget !== undefined || parsed.dataset !== undefined,
              channel: command.channel_id,
              user: command.user_id,
            },
          ),
        );
        return;
      }
      case 'status': {
        await ack();
        const { workflowId } = parsed;
        await answer(respond, async () => {
          const description = await deps.searches.describe(workflowId);
          return description
            ? formatSearchStatus(workflowId, description)
            : `No search has ID \`${workflowId}\`.`;
        });
        return;
      }
      case 'cancel': {
        await ack();
        const { workflowId } = parsed;
        await answer(respond, async () =>
          (await deps.searches.cancel(workflowId))
            ? `Cancellation of \`${workflowId}\` requested by <@${command.user_id}>.`
            : `No running search has ID \`${workflowId}\`.`,
        );
        return;
      }
    }
  });
  return app;
}

function searchRequestFor(
  command: Extract<SlackCommand, { kind: 'search' }>,
  fleet: Fleet,
  defaults: SlackBotDeps['requestDefaults'],
): SearchRequest {
  // A search started here reports in the thread of its acknowledgement, not in the fleet's channel.
  const { notify: _fleetChannel, ...fleetValues } = fleetRequest(fleet, defaults.artifacts, defaults.shards);
  return validateSearchRequest({
    ...fleetValues,
    dataset: command.dataset ?? fleet.dataset,
    budget: command.budget ?? fleet.budget,
  });
}

/** Runs a slow step after the ack and posts its answer (or why it failed) to the caller only. */
async function answer(respond: RespondFn, work: () => Promise<string | SlackMessage>): Promise<void> {
  let message: string | SlackMessage;
  try {
    message = await work();
  } catch (error) {
    message = `Sorry, that did not work: ${(error as Error).message}`;
  }
  await respond(
    typeof message === 'string' ? ephemeral(message) : { ...message, response_type: 'ephemeral' },
  );
}

function ephemeral(text: string): RespondArguments {
  return { response_type: 'ephemeral', text };
}

function usageFor(error: unknown): string {
  if (!(error instanceof InputError)) throw error;
  return `${error.message}\n\n${USAGE}`;
}

export function formatFleets(fleets: Fleet[]): string {
  if (fleets.length === 0) return 'No fleets are configured.';
  const lines = fleets.map(
    (fleet) =>
      `• \`${fleet.name}\` budget ${fleet.budget}, ${fleet.weightBits.join('/')}-bit weights, dataset ${fleet.dataset}, ` +
      `profile ${fleet.profile}, nightly \`${fleet.cron}\` (${fleet.timezone})`,
  );
  return ['*Fleets*', ...lines].join('\n');
}

/** A finished search shows its result; a running one its stage and progress; a failed one why. */
export function formatSearchStatus(
  workflowId: string,
  description: SearchDescription,
): string | SlackMessage {
  if (description.summary) return formatSlackResult(description.summary);
  if (description.failure) return formatSlackFailure(workflowId, description.failure);
  const progress = description.progress;
  if (!progress) return `\`${workflowId}\` is ${description.status.toLowerCase()}; no progress reported yet.`;
  const counters = Object.entries(progress.counters)
    .map(([name, value]) => `${name} ${value}`)
    .join(', ');
  return (
    `\`${workflowId}\` is ${description.status.toLowerCase()}: stage *${progress.stage}*, ` +
    `${progress.percent.toFixed(0)}% done` +
    (progress.finishedStages.length > 0 ? `; finished ${progress.finishedStages.join(', ')}` : '') +
    (counters ? `\n${counters}` : '')
  );
}
