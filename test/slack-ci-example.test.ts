import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

interface Step {
  name?: string;
  run?: string;
  uses?: string;
}

const workflow = parse(readFileSync('examples/github-actions/spikenas-search.yml', 'utf8'));
const steps: Step[] = workflow.jobs.search.steps;
const searchStep = steps.find((step) => step.run?.includes('spikenas start')) as Step;

describe('examples/github-actions/spikenas-search.yml', () => {
  it('runs on pull requests with Temporal settings from secrets', () => {
    expect(workflow.on).toHaveProperty('pull_request');
    expect(workflow.jobs.search.env.TEMPORAL_ADDRESS).toMatch(/^\$\{\{ *secrets\.TEMPORAL_ADDRESS *\}\}$/);
  });

  it('starts the fleet search with the agreed flags', () => {
    expect(searchStep.run).toMatch(/npx spikenas start --fleet "\$FLEET" --wait --json --timeout 45m/);
  });

  // The step's own shell script runs here, with `npx` standing in for the spikenas CLI (tested on its own).
  function runStep(cliStdout: string, cliExitCode: number) {
    const dir = mkdtempSync(join(tmpdir(), 'spikenas-gha-'));
    writeFileSync(join(dir, 'cli-output.json'), cliStdout);
    writeFileSync(join(dir, 'npx'), `#!/bin/sh\ncat "${dir}/cli-output.json"\nexit ${cliExitCode}\n`);
    chmodSync(join(dir, 'npx'), 0o755);
    const summaryFile = join(dir, 'summary.md');
    // As GitHub runs a `run:` step: the script in a file, `bash --noprofile --norc -eo pipefail {0}`.
    writeFileSync(join(dir, 'step.sh'), searchStep.run as string);
    const result = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', join(dir, 'step.sh')], {
      cwd: dir,
      env: { PATH: `${dir}:${process.env.PATH}`, FLEET: 'drone-alpha', GITHUB_STEP_SUMMARY: summaryFile },
      encoding: 'utf8',
    });
    return { status: result.status, summary: readFileSync(summaryFile, 'utf8'), stderr: result.stderr };
  }

  it('writes the winner, memory against budget and accuracy to the job summary', () => {
    const output = {
      workflowId: 'spikenas-drone-alpha-2026-03-04',
      winner: '0302 0030 3003 0000',
      params: 49152,
      weightBits: 8,
      weightBytes: 49152,
      budgetBytes: 65536,
      accuracy: 0.8765,
      accuracyBeforeQuantization: 0.88,
      artifacts: { report: 's3://bucket/runs/r1/report.md' },
    };
    const { status, summary, stderr } = runStep(JSON.stringify(output), 0);
    expect(status, stderr).toBe(0);
    expect(summary).toContain('`0302 0030 3003 0000`');
    // 49152 B = 48 KiB of 64 KiB = 75 %.
    expect(summary).toContain('48 KiB of 64 KiB budget (75%)');
    expect(summary).toContain('87.65% at 8-bit weights');
    expect(summary).toContain('s3://bucket/runs/r1/report.md');
  });

  it.each([
    [3, 'infeasible budget'],
    [4, 'search failed'],
    [6, 'timed out waiting'],
  ])('fails the job with the CLI exit code %i', (code, outcome) => {
    const { status, summary } = runStep(
      JSON.stringify({ error: 'budget: no candidate fits in 1 KiB' }),
      code,
    );
    expect(status).toBe(code);
    expect(summary).toContain(outcome);
    expect(summary).toContain('no candidate fits in 1 KiB');
  });
});
