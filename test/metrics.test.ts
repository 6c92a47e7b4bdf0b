/**
 * The metrics the workers publish and the ones the stack alarms and scales on are the same: the log lines
 * that the pipeline's outcome step and the worker's backlog publisher print, read as CloudWatch reads
 * embedded metric format, name exactly the namespace and metrics the synthesized stack refers to.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterEach, expect, it, vi } from 'vitest';
import { METRIC_NAMESPACE } from '../common/metrics.js';
import { SpikeNasStack } from '../infra/stack.js';
import { recordOutcome } from '../pipeline/stages/outcome.js';
import { backlogMetricLine } from '../worker/backlog.js';

interface EmfLine {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [field: string]: unknown;
}

/** The metrics a line publishes, as `namespace/name`, after checking it is embedded metric format. */
function published(line: string): string[] {
  const parsed = JSON.parse(line) as EmfLine;
  expect(typeof parsed._aws.Timestamp).toBe('number');
  return parsed._aws.CloudWatchMetrics.flatMap((directive) =>
    directive.Metrics.map((metric) => {
      // CloudWatch takes the value from the root member named as the metric.
      expect(typeof parsed[metric.Name]).toBe('number');
      for (const dimension of directive.Dimensions.flat()) expect(typeof parsed[dimension]).toBe('string');
      return `${directive.Namespace}/${metric.Name}`;
    }),
  );
}

/** Every metric of our namespace the stack reads: alarms (the backlog scaling's included) and dashboard. */
function referenced(template: Template): string[] {
  const names = new Set<string>();
  for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
    const { Namespace, MetricName } = (alarm as { Properties: { Namespace?: string; MetricName?: string } })
      .Properties;
    if (Namespace === METRIC_NAMESPACE) names.add(`${Namespace}/${MetricName}`);
  }
  for (const dashboard of Object.values(template.findResources('AWS::CloudWatch::Dashboard'))) {
    const body = JSON.stringify(
      (dashboard as { Properties: { DashboardBody: unknown } }).Properties.DashboardBody,
    );
    for (const match of body.matchAll(new RegExp(`\\[\\\\"${METRIC_NAMESPACE}\\\\",\\\\"(\\w+)\\\\"`, 'g')))
      names.add(`${METRIC_NAMESPACE}/${match[1]}`);
  }
  return [...names].sort();
}

afterEach(() => {
  vi.restoreAllMocks();
});

it('the stack reads exactly the metrics the pipeline and the workers publish', async () => {
  const printed: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((line: string) => printed.push(line));
  const artifacts = mkdtempSync(join(tmpdir(), 'spikenas-metrics-'));
  const run = { artifacts, runId: 'metrics-run', execution: 'metrics-execution' };
  await recordOutcome({ run, outcome: 'failed', message: 'boom' });
  await recordOutcome({ run, outcome: 'cancelled', message: 'stop' });
  vi.restoreAllMocks();
  // A failure is one line of one metric; a cancellation is none.
  expect(printed).toHaveLength(1);
  const lines = [...printed, backlogMetricLine('spikenas-gpu', 2)];
  const emitted = [...new Set(lines.flatMap(published))].sort();
  expect(emitted).toHaveLength(2);

  const app = new App({ context: { slackAssetDir: join(artifacts, 'no-lambda') } });
  const template = Template.fromStack(new SpikeNasStack(app, 'Metrics'));
  expect(referenced(template)).toEqual(emitted);
});
