/**
 * Nightly searches per fleet as Temporal Schedules. `syncSchedules` makes the server hold exactly one
 * schedule per fleet of the fleets file, and changes nothing when they already match (idempotent).
 */
import { createHash } from 'node:crypto';
import { type Client, ScheduleNotFoundError, ScheduleOverlapPolicy } from '@temporalio/client';
import { taskQueues } from '../client/temporal.js';
import { type Fleet, fleetRequest } from '../config/fleets.js';
import type { SearchRequest } from '../contract/request.js';
import { SEARCH_WORKFLOW } from '../contract/temporal.js';

const SCHEDULE_PREFIX = 'spikenas-fleet-';

export function scheduleIdOf(fleet: string): string {
  return `${SCHEDULE_PREFIX}${fleet}`;
}

interface Desired {
  scheduleId: string;
  fleet: Fleet;
  request: SearchRequest;
  /** Digest of everything the schedule should say; stored in the action memo to detect drift. */
  digest: string;
}

export interface SyncReport {
  created: string[];
  updated: string[];
  deleted: string[];
  unchanged: string[];
}

export async function syncSchedules(
  client: Client,
  fleets: Fleet[],
  options: { artifacts: string; shards: number; dryRun?: boolean },
): Promise<SyncReport> {
  const queues = taskQueues();
  const desired = new Map<string, Desired>();
  for (const fleet of fleets) {
    const request = fleetRequest(fleet, options.artifacts, options.shards);
    const digest = createHash('sha256')
      .update(JSON.stringify({ fleet, request, queues }))
      .digest('hex')
      .slice(0, 16);
    desired.set(scheduleIdOf(fleet.name), { scheduleId: scheduleIdOf(fleet.name), fleet, request, digest });
  }
  const report: SyncReport = { created: [], updated: [], deleted: [], unchanged: [] };
  const definition = (d: Desired) => ({
    spec: { cronExpressions: [d.fleet.cron], timezone: d.fleet.timezone },
    action: {
      type: 'startWorkflow' as const,
      workflowType: SEARCH_WORKFLOW,
      // Temporal appends the scheduled time, so each night's run has its own deterministic ID.
      workflowId: `spikenas-${d.fleet.name}-nightly`,
      taskQueue: queues.cpu,
      args: [d.request, queues],
      memo: { spikenasDigest: d.digest, cron: d.fleet.cron },
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' as const },
  });
  // Existence is asked of each schedule directly: the list comes from visibility, which lags behind.
  for (const d of desired.values()) {
    const handle = client.schedule.getHandle(d.scheduleId);
    const description = await handle.describe().catch(notFoundAsNull);
    if (description === null) {
      if (!options.dryRun) await client.schedule.create({ scheduleId: d.scheduleId, ...definition(d) });
      report.created.push(d.scheduleId);
      continue;
    }
    const memo = description.action.type === 'startWorkflow' ? description.action.memo : undefined;
    if (memo?.spikenasDigest === d.digest) {
      report.unchanged.push(d.scheduleId);
      continue;
    }
    if (!options.dryRun) await handle.update((previous) => ({ ...definition(d), state: previous.state }));
    report.updated.push(d.scheduleId);
  }
  for await (const schedule of client.schedule.list()) {
    const { scheduleId } = schedule;
    if (!scheduleId.startsWith(SCHEDULE_PREFIX) || desired.has(scheduleId)) continue;
    const handle = client.schedule.getHandle(scheduleId);
    // The list may still name a schedule that is already gone; only one that existed counts as deleted.
    const existed = options.dryRun
      ? (await handle.describe().catch(notFoundAsNull)) !== null
      : await handle.delete().then(() => true, notFoundAsNull);
    if (existed) report.deleted.push(scheduleId);
  }
  return report;
}

/** A schedule that does not exist (any more) reads as null; any other error is thrown. */
function notFoundAsNull(error: unknown): null {
  if (error instanceof ScheduleNotFoundError) return null;
  throw error;
}

export interface ScheduleRow {
  scheduleId: string;
  fleet: string;
  cron: string;
  timezone: string;
  nextRuns: Date[];
  paused: boolean;
}

export async function listSchedules(client: Client): Promise<ScheduleRow[]> {
  const rows: ScheduleRow[] = [];
  for await (const schedule of client.schedule.list()) {
    if (!schedule.scheduleId.startsWith(SCHEDULE_PREFIX)) continue;
    const description = await client.schedule.getHandle(schedule.scheduleId).describe();
    rows.push({
      scheduleId: schedule.scheduleId,
      fleet: schedule.scheduleId.slice(SCHEDULE_PREFIX.length),
      cron: String((description.action.type === 'startWorkflow' && description.action.memo?.cron) || '?'),
      timezone: description.spec.timezone ?? 'UTC',
      nextRuns: description.info.nextActionTimes.slice(0, 3),
      paused: description.state.paused,
    });
  }
  return rows.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}
