/** CDK entry (cdk.json): one environment-agnostic stack; settings come from context (-c key=value). */
import { App } from 'aws-cdk-lib';
import { SpikeNasStack } from './stack.js';

const app = new App();
new SpikeNasStack(app, app.node.tryGetContext('stackName') ?? 'SpikeNas', {
  description: 'spikenas: memory-aware SNN architecture search workers, artifacts and Slack bot',
});
app.synth();
