/**
 * The thread policy per network size and step shape, and its override. That heavy steps really run in
 * processes with the policy's TensorFlow threads is checked end to end by workflow-search (the winner's
 * recorded backend).
 */
import { describe, expect, it } from 'vitest';
import { InputError } from '../common/errors.js';
import { heavySlots } from '../pipeline/step-processes.js';
import { describeThreadPolicy, networkSize, threadPolicy } from '../pipeline/thread-policy.js';
import { PRESETS } from '../snn/presets.js';

const small = PRESETS['fmnist-small'];
const large = PRESETS['snasnet-cifar10'];

describe('thread policy', () => {
  it('calls the fmnist presets small and the SNASNet presets large', () => {
    expect(networkSize(PRESETS['fmnist-tiny'])).toBe('small');
    expect(networkSize(small)).toBe('small');
    for (const name of ['snasnet-cifar10', 'snasnet-cifar100', 'snasnet-tinyimagenet']) {
      expect(networkSize(PRESETS[name])).toBe('large');
    }
  });

  it('gives small networks’ shards a one-thread process per core, and every core to a step alone', () => {
    expect(threadPolicy(small, 'sharded', 4, {})).toEqual({
      network: 'small',
      step: 'sharded',
      processes: 4,
      intraOpThreads: 1,
      source: 'auto',
    });
    expect(threadPolicy(small, 'alone', 4, {})).toMatchObject({ processes: 1, intraOpThreads: 4 });
    for (const shape of ['sharded', 'alone'] as const) {
      expect(threadPolicy(large, shape, 4, {})).toMatchObject({
        network: 'large',
        processes: 1,
        intraOpThreads: 4,
      });
    }
    expect(describeThreadPolicy(threadPolicy(PRESETS['fmnist-tiny'], 'sharded', 2, {}))).toBe(
      '2 processes x 1 TensorFlow thread (small network, sharded step)',
    );
    expect(describeThreadPolicy(threadPolicy(PRESETS['fmnist-tiny'], 'alone', 2, {}))).toBe(
      '1 process x 2 TensorFlow threads (small network, step alone)',
    );
  });

  it('takes SPIKENAS_THREAD_POLICY as a size class or as processes x threads', () => {
    const env = (value: string) => ({ SPIKENAS_THREAD_POLICY: value });
    expect(threadPolicy(small, 'sharded', 2, env('large'))).toMatchObject({
      processes: 1,
      intraOpThreads: 2,
      source: 'SPIKENAS_THREAD_POLICY',
    });
    expect(threadPolicy(large, 'sharded', 2, env('small'))).toMatchObject({
      processes: 2,
      intraOpThreads: 1,
    });
    expect(threadPolicy(large, 'alone', 2, env('3x2'))).toEqual({
      network: 'large',
      step: 'alone',
      processes: 3,
      intraOpThreads: 2,
      source: 'SPIKENAS_THREAD_POLICY',
    });
    expect(describeThreadPolicy(threadPolicy(PRESETS['fmnist-tiny'], 'alone', 2, env('1x1')))).toBe(
      '1 process x 1 TensorFlow thread (SPIKENAS_THREAD_POLICY)',
    );
    expect(heavySlots({ SPIKENAS_THREAD_POLICY: '3x2' })).toBe(3);
  });

  it('rejects a bad override naming the variable and the allowed values', () => {
    for (const bad of ['fast', '0x1', '2x', 'x1', '2 x 1']) {
      expect(() => threadPolicy(small, 'sharded', 2, { SPIKENAS_THREAD_POLICY: bad })).toThrow(InputError);
    }
    expect(() => threadPolicy(small, 'sharded', 2, { SPIKENAS_THREAD_POLICY: 'fast' })).toThrow(
      /SPIKENAS_THREAD_POLICY: 'fast' is not a thread policy \(allowed: small, large, <processes>x<threads>/,
    );
  });
});
