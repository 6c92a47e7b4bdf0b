import { InputError } from '../common/errors.js';
import type { NetConfig } from './config.js';

/**
 * Named network configurations.
 * The snasnet-* presets use SNASNet's published values, from model_snn.py and config.py of
 * github.com/Intelligent-Computing-Lab-Yale/Neural-Architecture-Search-for-Spiking-Neural-Networks:
 * first_out_channel 128 times channel_ratio, --timestep 5, --second_avgpooling 2, --celltype backward
 * (defaults); cifar10: channel_ratio 2 (so C = 256: stem and cell 1 on 256 channels, cell 2 on 512, a
 * 512 x 8 x 8 classifier input), classifier_inter_ch 1024, num_final_neuron 100 / 10 classes
 * (population 10), stem stride 1; cifar100: channel_ratio 1 (C = 128), 1024, 500 / 100 (population 5),
 * stride 1; tinyimagenet: channel_ratio 1, 64x64 input, 4096, 1000 / 200 (population 5), stem stride 2.
 * The fmnist-* presets are ours: small enough to search and train on two CPU cores in minutes.
 */
export const PRESETS: Record<string, NetConfig> = {
  'snasnet-cifar10': {
    inputShape: [32, 32, 3],
    numClasses: 10,
    stemChannels: 256,
    stemStride: 1,
    secondPool: 2,
    classifierHidden: 1024,
    populationSize: 10,
    timesteps: 5,
    cellType: 'backward',
  },
  'snasnet-cifar100': {
    inputShape: [32, 32, 3],
    numClasses: 100,
    stemChannels: 128,
    stemStride: 1,
    secondPool: 2,
    classifierHidden: 1024,
    populationSize: 5,
    timesteps: 5,
    cellType: 'backward',
  },
  'snasnet-tinyimagenet': {
    inputShape: [64, 64, 3],
    numClasses: 200,
    stemChannels: 128,
    stemStride: 2,
    secondPool: 2,
    classifierHidden: 4096,
    populationSize: 5,
    timesteps: 5,
    cellType: 'backward',
  },
  /** Fast: cell 1 on 14x14x8, cell 2 on 7x7x16, 3x3x16 into the classifier. */
  'fmnist-tiny': {
    inputShape: [28, 28, 1],
    numClasses: 10,
    stemChannels: 8,
    stemStride: 2,
    secondPool: 2,
    classifierHidden: 64,
    populationSize: 2,
    timesteps: 4,
    cellType: 'backward',
  },
  /** Cell 1 on 14x14x16, cell 2 on 7x7x32, 3x3x32 into the classifier. */
  'fmnist-small': {
    inputShape: [28, 28, 1],
    numClasses: 10,
    stemChannels: 16,
    stemStride: 2,
    secondPool: 2,
    classifierHidden: 128,
    populationSize: 5,
    timesteps: 5,
    cellType: 'backward',
  },
};

/** The preset's config (a copy, safe to modify); InputError naming the known presets otherwise. */
export function resolvePreset(name: string): NetConfig {
  const preset = PRESETS[name];
  if (preset === undefined) {
    throw new InputError('config', `'${name}' is not a preset`, Object.keys(PRESETS).join(', '));
  }
  return { ...preset, inputShape: [...preset.inputShape] };
}
