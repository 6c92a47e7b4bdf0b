/**
 * Messages that name the field, the value and what is allowed, from the CLI as a child process: a missing
 * Temporal server, missing AWS credentials, a config file that is not an object or cannot build a
 * network, and an arch with a wrong digit. Each is refused before any work starts.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../cli/exit-codes.js';
import { resolvePreset } from '../snn/presets.js';
import { runCli } from './support/cli.js';
import { freshBucket, s3Endpoint } from './support/s3.js';

const dir = mkdtempSync(join(tmpdir(), 'spikenas-messages-'));

function configFile(name: string, content: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(content));
  return file;
}

describe('bad input names the field, the value and what is allowed', () => {
  it('an arch with an invalid op digit says which digit, where', async () => {
    const run = await runCli(['inspect', '--arch', '0302 0070 3003 0000']);
    expect(run.code).toBe(EXIT.invalidInput);
    expect(run.stderr).toMatch(/arch: '0302 0070 3003 0000' has '7' at row 1 column 2/);
    expect(run.stderr).toMatch(/0 \(none\), 1 \(skip\), 2 \(conv1x1\), 3 \(conv3x3\), 4 \(avgpool3x3\)/);
  });

  it('an arch with a short group says which row', async () => {
    const run = await runCli(['inspect', '--arch', '0302 003 3003 0000']);
    expect(run.code).toBe(EXIT.invalidInput);
    expect(run.stderr).toMatch(/has 3 digits in row 1 \(group '003'\), not 4/);
  });

  it('a config file holding a JSON array is refused as such', async () => {
    const file = configFile('array.json', [1, 2, 3]);
    const run = await runCli(['inspect', '--arch', '0302 0030 3003 0000', '--config', file]);
    expect(run.code).toBe(EXIT.invalidInput);
    expect(run.stderr).toContain(
      `config: ${file} holds a JSON array (allowed: a JSON object with the fields`,
    );
    expect(run.stderr).toMatch(/inputShape, numClasses, stemChannels, stemStride/);
    expect(run.stderr).not.toMatch(/config\.config|positive integer/);
  });

  it('a config field with a bad value names the field and the value', async () => {
    const file = configFile('zero.json', { ...resolvePreset('fmnist-tiny'), stemChannels: 0 });
    const run = await runCli(['inspect', '--arch', '0302 0030 3003 0000', '--config', file]);
    expect(run.code).toBe(EXIT.invalidInput);
    expect(run.stderr).toMatch(/config\.stemChannels: 0 in .*zero\.json.* \(allowed: a positive integer\)/);
  });

  it('a config whose stem stride leaves no pixels for the pools is refused before anything runs', async () => {
    const file = configFile('stride.json', { ...resolvePreset('fmnist-tiny'), stemStride: 40 });
    for (const command of [['inspect'], ['train', '--dataset', 'synthetic', '--out', dir]]) {
      const run = await runCli([...command, '--arch', '0302 0030 3003 0000', '--config', file]);
      expect(run.code, command[0]).toBe(EXIT.invalidInput);
      expect(run.stderr).toMatch(
        /config\.stemStride: 40 leaves 1x1 pixels after the stem of a 28x28 input.*\(allowed: 1\.\.27 for a 28x28 input\)/,
      );
      // Refused before the runtime started: no backend was chosen.
      expect(run.stderr).not.toMatch(/tfjs backend/);
    }
  });

  it('a config whose second pool leaves nothing is refused with the pool named', async () => {
    const file = configFile('pool.json', { ...resolvePreset('fmnist-tiny'), secondPool: 64 });
    const run = await runCli(['inspect', '--arch', '0302 0030 3003 0000', '--config', file]);
    expect(run.code).toBe(EXIT.invalidInput);
    expect(run.stderr).toMatch(
      /config\.secondPool: 64 pools the \d+x\d+ maps of cell 2 to nothing \(allowed: 1\.\.\d+/,
    );
  });
});

describe('an unreachable or unconfigured service says where and what to do', () => {
  it('no Temporal server: names the address and how to start one', async () => {
    const run = await runCli(['list'], { env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' } });
    expect(run.code).toBe(EXIT.error);
    expect(run.stderr).toMatch(/no Temporal server answers at 127\.0\.0\.1:1 \(TEMPORAL_ADDRESS\)/);
    expect(run.stderr).toMatch(/bash scripts\/temporal\.sh start 1/);
  });

  it('no AWS credentials: says which settings provide them, not the SDK text', async () => {
    const bucket = await freshBucket('nocreds');
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('AWS_')) env[key] = value;
    Object.assign(env, {
      SPIKENAS_S3_ENDPOINT: s3Endpoint(),
      AWS_REGION: 'us-east-1',
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials'),
      AWS_CONFIG_FILE: join(dir, 'no-config'),
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    const run = await runCli(
      ['search', '--dataset', 'synthetic', '--mode', 'snasnet', '--out', `s3://${bucket}/runs`],
      { env },
    );
    expect(run.code).not.toBe(EXIT.ok);
    expect(run.stderr).toMatch(/no AWS credentials found\. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
    expect(run.stderr).not.toMatch(/Could not load credentials from any providers/);
    // Nor the AWS SDK's notice about Node versions, which the search could not act on.
    expect(run.stderr).not.toMatch(/NodeVersionSupportWarning/);
  });
});
