/**
 * Workflow overhead of one finished search: its wall time minus the time during which at least one of its
 * activities was running (the sum of activity times is printed too; shards overlap, so it can exceed the
 * wall time). `node dist/bench/workflow-overhead.js <workflowId>` prints one JSON object.
 */
import { connectClient } from '../client/temporal.js';

const workflowId = process.argv[2];
if (!workflowId) throw new Error('usage: workflow-overhead <workflowId>');
const client = await connectClient();
const history = await client.workflow.getHandle(workflowId).fetchHistory();
const events = history.events ?? [];
const millis = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
  Number(t?.seconds ?? 0) * 1000 + Math.round((t?.nanos ?? 0) / 1e6);

const started = new Map<string, number>();
const intervals: [number, number][] = [];
const byType: Record<string, number> = {};
const typeOf = new Map<string, string>();
for (const event of events) {
  const id = String(event.eventId);
  if (event.activityTaskScheduledEventAttributes) {
    typeOf.set(id, event.activityTaskScheduledEventAttributes.activityType?.name ?? '?');
  }
  if (event.activityTaskStartedEventAttributes) {
    started.set(String(event.activityTaskStartedEventAttributes.scheduledEventId), millis(event.eventTime));
  }
  const closed =
    event.activityTaskCompletedEventAttributes ??
    event.activityTaskFailedEventAttributes ??
    event.activityTaskCanceledEventAttributes;
  if (closed) {
    const scheduled = String(closed.scheduledEventId);
    const begin = started.get(scheduled) as number;
    const end = millis(event.eventTime);
    intervals.push([begin, end]);
    const type = typeOf.get(scheduled) ?? '?';
    byType[type] = (byType[type] ?? 0) + (end - begin);
  }
}
intervals.sort((a, b) => a[0] - b[0]);
let busy = 0;
let reach = Number.NEGATIVE_INFINITY;
for (const [begin, end] of intervals) {
  busy += Math.max(0, end - Math.max(begin, reach));
  reach = Math.max(reach, end);
}
const wallMs = millis(events.at(-1)?.eventTime) - millis(events[0]?.eventTime);
console.log(
  JSON.stringify({
    workflowId,
    wallMs,
    activityBusyMs: busy,
    activitySumMs: intervals.reduce((sum, [b, e]) => sum + e - b, 0),
    overheadMs: wallMs - busy,
    activities: intervals.length,
    activityMsByType: byType,
  }),
);
await client.connection.close();
