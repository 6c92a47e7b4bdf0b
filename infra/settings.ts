/** What a deployment may choose (CDK context, `cdk deploy -c key=value`), and the defaults otherwise. */
import type { Construct } from 'constructs';

export interface SpikeNasSettings {
  /** EC2 type of the GPU workers. */
  gpuInstanceType: string;
  gpuMaxInstances: number;
  cpuWorkers: number;
  /** Key prefix of every object the workers may touch, without slashes at the ends. */
  artifactPrefix: string;
  checkpointExpiryDays: number;
  noncurrentExpiryDays: number;
  imageTag: string;
  /** Folder holding dist/ (npm run build) and production node_modules/ for the Slack Lambda. */
  slackAssetDir: string;
}

export const DEFAULT_SETTINGS: SpikeNasSettings = {
  gpuInstanceType: 'g4dn.xlarge',
  gpuMaxInstances: 4,
  cpuWorkers: 1,
  artifactPrefix: 'spikenas',
  checkpointExpiryDays: 30,
  noncurrentExpiryDays: 30,
  imageTag: 'latest',
  slackAssetDir: '.spikenas/lambda',
};

/** Settings from CDK context (`cdk deploy -c gpuInstanceType=g5.xlarge`), defaults otherwise. */
export function settingsFromContext(scope: Construct): SpikeNasSettings {
  const read = (key: keyof SpikeNasSettings) => scope.node.tryGetContext(key) as string | number | undefined;
  const settings = { ...DEFAULT_SETTINGS };
  for (const key of Object.keys(DEFAULT_SETTINGS) as (keyof SpikeNasSettings)[]) {
    const value = read(key);
    if (value === undefined) continue;
    const fallback = DEFAULT_SETTINGS[key];
    if (typeof fallback === 'number') {
      const number = Number(value);
      if (!Number.isInteger(number) || number < 0)
        throw new Error(`context ${key}: '${value}' is not a count`);
      (settings as Record<string, unknown>)[key] = number;
    } else {
      (settings as Record<string, unknown>)[key] = String(value);
    }
  }
  if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(settings.artifactPrefix)) {
    throw new Error(
      `context artifactPrefix: '${settings.artifactPrefix}' must be a key prefix like 'spikenas'`,
    );
  }
  return settings;
}
