import { describe, expect, it } from 'vitest';
import { InputError } from '../common/errors.js';
import { authoriseSlackCaller, slackAuthFromEnv } from '../slack/auth.js';
import { parseSlashCommand } from '../slack/command.js';

describe('parseSlashCommand', () => {
  it('reads search arguments in any order and case of key', () => {
    expect(parseSlashCommand('search budget=128KiB FLEET=drone-alpha dataset=mnist')).toEqual({
      kind: 'search',
      fleet: 'drone-alpha',
      budget: '128KiB',
      dataset: 'mnist',
    });
    expect(parseSlashCommand('  Search   fleet=ugv ')).toEqual({ kind: 'search', fleet: 'ugv' });
  });

  it('treats empty text and help as help', () => {
    expect(parseSlashCommand('')).toEqual({ kind: 'help' });
    expect(parseSlashCommand('   ')).toEqual({ kind: 'help' });
    expect(parseSlashCommand('HELP')).toEqual({ kind: 'help' });
  });

  it('reads status, cancel and fleets', () => {
    expect(parseSlashCommand('status spikenas-drone-2026-01-02')).toEqual({
      kind: 'status',
      workflowId: 'spikenas-drone-2026-01-02',
    });
    expect(parseSlashCommand('cancel `spikenas-1a2b3c4d`')).toEqual({
      kind: 'cancel',
      workflowId: 'spikenas-1a2b3c4d',
    });
    expect(parseSlashCommand('fleets')).toEqual({ kind: 'fleets' });
  });

  it.each([
    ['launch fleet=a', 'subcommand'],
    ['search', 'fleet'],
    ['search budget=1KiB', 'fleet'],
    ['search fleet=a fleet=b', 'fleet'],
    ['search fleet=', 'fleet'],
    ['search fleet=a seed=3', 'search'],
    ['search fleet=a =x', 'search'],
    ['search drone-alpha', 'search'],
    ['status', 'status'],
    ['status a b', 'status'],
    ['cancel', 'cancel'],
    ['cancel <script>', 'cancel'],
    ['fleets all', 'fleets'],
  ])('rejects %j naming field %s', (text, field) => {
    const error = captureError(() => parseSlashCommand(text));
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).field).toBe(field);
  });

  it('names the allowed arguments for an unknown one', () => {
    const error = captureError(() => parseSlashCommand('search fleet=a seed=3')) as InputError;
    expect(error.allowed).toContain('budget=<size>');
  });
});

describe('Slack authorisation', () => {
  const config = slackAuthFromEnv({
    SPIKENAS_SLACK_ALLOWED_TEAMS: 'T0001',
    SPIKENAS_SLACK_ALLOWED_CHANNELS: ' C0001 , C0002',
    SPIKENAS_SLACK_ALLOWED_USERS: '*',
  });

  it('admits a caller matching all three lists', () => {
    expect(authoriseSlackCaller(config, { teamId: 'T0001', channelId: 'C0002', userId: 'U9' })).toEqual({
      allowed: true,
    });
  });

  it('refuses another workspace or channel and names the ID', () => {
    const otherTeam = authoriseSlackCaller(config, { teamId: 'T0002', channelId: 'C0001', userId: 'U9' });
    expect(otherTeam.allowed).toBe(false);
    expect(!otherTeam.allowed && otherTeam.reason).toContain('T0002');
    const otherChannel = authoriseSlackCaller(config, { teamId: 'T0001', channelId: 'C0003', userId: 'U9' });
    expect(!otherChannel.allowed && otherChannel.reason).toContain('channel (C0003)');
  });

  it('refuses everyone when nothing is configured', () => {
    const empty = slackAuthFromEnv({});
    expect(authoriseSlackCaller(empty, { teamId: 'T1', channelId: 'C1', userId: 'U1' }).allowed).toBe(false);
  });

  it('rejects entries that cannot be Slack IDs', () => {
    const error = captureError(() => slackAuthFromEnv({ SPIKENAS_SLACK_ALLOWED_USERS: 'U1,alice' }));
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).field).toBe('SPIKENAS_SLACK_ALLOWED_USERS');
  });
});

function captureError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
