import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The tests run on the native TensorFlow backend (the numerics suite also runs wasm and cpu); a
    // machine where scripts/tensorflow.sh could not build it fails them rather than quietly use wasm.
    env: { SPIKENAS_BACKEND: process.env.SPIKENAS_BACKEND || 'tensorflow' },
    // tfjs work and real servers on a 2-core machine, and this workplace's machines differ 2.5x in speed
    // (bench/results/runtime-2026-12-02-tensorflow-avx2.json): generous per-test time, files in separate forks.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    pool: 'forks',
    maxWorkers: 2,
    globalSetup: ['test/global-setup.ts'],
  },
});
