import { InputError } from '../common/errors.js';

/** What one `/spikenas …` invocation asks for, after parsing its text and before any check against fleets. */
export type SlackCommand =
  | { kind: 'help' }
  | { kind: 'fleets' }
  | { kind: 'status'; workflowId: string }
  | { kind: 'cancel'; workflowId: string }
  | { kind: 'search'; fleet: string; budget?: string; dataset?: string };

export const SUBCOMMANDS = 'search, status, cancel, fleets, help';
const SEARCH_ARGUMENTS = 'fleet=<name>, budget=<size>, dataset=<name>';
const SEARCH_KEYS = ['fleet', 'budget', 'dataset'] as const;
type SearchKey = (typeof SEARCH_KEYS)[number];

/** Temporal accepts almost any string as an ID; ours are made of these, and refusing others keeps junk out of queries. */
const WORKFLOW_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$/;

export const USAGE = [
  '*Usage*',
  '`/spikenas search fleet=<name> [budget=<size>] [dataset=<name>]` start a memory-aware search for a fleet',
  '`/spikenas status <id>` show the progress or result of a search',
  '`/spikenas cancel <id>` cancel a running search',
  '`/spikenas fleets` list the configured fleets',
  '`/spikenas help` show this message',
  'Sizes: B, KB, KiB, MB, MiB (e.g. `budget=256KiB`).',
].join('\n');

/**
 * Parses the text after `/spikenas`. Empty text is `help`. Throws InputError naming the
 * subcommand or argument and what is allowed; nothing here knows the fleets or talks to Temporal.
 */
export function parseSlashCommand(text: string): SlackCommand {
  const [first, ...rest] = text
    .trim()
    .split(/\s+/)
    .filter((token) => token !== '');
  const subcommand = first?.toLowerCase();
  switch (subcommand) {
    case undefined:
    case 'help':
      return { kind: 'help' };
    case 'fleets':
      if (rest.length > 0) throw new InputError('fleets', `takes no arguments, got '${rest.join(' ')}'`);
      return { kind: 'fleets' };
    case 'status':
    case 'cancel':
      return { kind: subcommand, workflowId: parseWorkflowId(subcommand, rest) };
    case 'search':
      return parseSearch(rest);
    default:
      throw new InputError('subcommand', `unknown subcommand '${first}'`, SUBCOMMANDS);
  }
}

function parseWorkflowId(subcommand: string, args: string[]): string {
  if (args.length !== 1) {
    throw new InputError(
      subcommand,
      `takes exactly one workflow ID, got ${args.length}`,
      `${subcommand} <id>`,
    );
  }
  // Slack users copy IDs out of code spans; the backticks sometimes come along.
  const id = (args[0] as string).replace(/^`+|`+$/g, '');
  if (!WORKFLOW_ID.test(id)) {
    throw new InputError(subcommand, `'${id}' is not a workflow ID`, 'letters, digits and . _ : @ -');
  }
  return id;
}

function parseSearch(args: string[]): SlackCommand {
  const values: Partial<Record<SearchKey, string>> = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    const key = arg.slice(0, eq).toLowerCase();
    const value = arg.slice(eq + 1);
    if (eq <= 0 || !isSearchKey(key)) {
      throw new InputError('search', `unknown argument '${arg}'`, SEARCH_ARGUMENTS);
    }
    if (value === '') throw new InputError(key, 'is empty', SEARCH_ARGUMENTS);
    if (values[key] !== undefined) throw new InputError(key, 'is given twice', SEARCH_ARGUMENTS);
    values[key] = value;
  }
  if (values.fleet === undefined) throw new InputError('fleet', 'is required', SEARCH_ARGUMENTS);
  return { kind: 'search', ...values, fleet: values.fleet };
}

function isSearchKey(key: string): key is SearchKey {
  return (SEARCH_KEYS as readonly string[]).includes(key);
}
