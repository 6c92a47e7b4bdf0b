/**
 * The worker images, checked by parsing their Dockerfiles (Docker cannot run here): base images and tags,
 * how Node and the dependencies are installed, and that both start the CLI's worker command.
 */
import { readFileSync } from 'node:fs';
import { type Dockerfile, DockerfileParser, type Instruction } from 'dockerfile-ast';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../', import.meta.url);
const parse = (name: string): Dockerfile =>
  DockerfileParser.parse(readFileSync(new URL(`docker/${name}`, ROOT), 'utf8'));
const packageJson = JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')) as {
  engines: { node: string };
  optionalDependencies: Record<string, string>;
};

/** The instructions of the last stage: what the image that runs is made of. */
function finalStage(file: Dockerfile): Instruction[] {
  const all = file.getInstructions();
  const lastFrom = all.map((i) => i.getKeyword()).lastIndexOf('FROM');
  return all.slice(lastFrom);
}

function stage(file: Dockerfile, name: string): Instruction[] {
  const all = file.getInstructions();
  const start = all.findIndex(
    (i) => i.getKeyword() === 'FROM' && /\bAS\s+(\S+)$/i.exec(i.getArgumentsContent() ?? '')?.[1] === name,
  );
  expect(start, `stage ${name}`).toBeGreaterThanOrEqual(0);
  const end = all.findIndex((i, index) => index > start && i.getKeyword() === 'FROM');
  return all.slice(start, end < 0 ? undefined : end);
}

const runs = (instructions: Instruction[]) =>
  instructions
    .filter((i) => i.getKeyword() === 'RUN')
    .map((i) => (i.getArgumentsContent() ?? '').replace(/\\\n/g, ' '));

function exec(file: Dockerfile, keyword: 'ENTRYPOINT' | 'CMD'): string[] {
  const instruction = finalStage(file).find((i) => i.getKeyword() === keyword);
  expect(instruction, keyword).toBeDefined();
  // Exec (JSON) form only: a shell form would put /bin/sh between ECS's stop signal and node.
  return JSON.parse(instruction?.getArgumentsContent() ?? 'null') as string[];
}

function nodeMajor(tag: string | null): number {
  return Number(/^(\d+)\./.exec(tag ?? '')?.[1]);
}

describe('docker/Dockerfile.gpu', () => {
  const file = parse('Dockerfile.gpu');
  const froms = file.getFROMs();

  it('runs on CUDA 11.2 with cuDNN 8, what libtensorflow 2.9.1 under tfjs-node-gpu 4.22.0 needs', () => {
    expect(packageJson.optionalDependencies['@tensorflow/tfjs-node-gpu']).toBe('4.22.0');
    const cuda = froms.find((from) => from.getImageName() === 'nvidia/cuda');
    expect(cuda?.getImageTag()).toMatch(/^11\.2\.\d+-cudnn8-runtime-ubuntu\d+\.\d+$/);
    // Every stage, the final one included, builds on that CUDA stage.
    const cudaStage = cuda?.getBuildStage();
    expect(froms.filter((from) => from.getImageName() === cudaStage).length).toBe(2);
    expect(finalStage(file)[0]?.getArgumentsContent()).toBe(cudaStage);
  });

  it('installs Node 20 from the official image and npm 11', () => {
    const node = froms.find((from) => from.getImageName() === 'node');
    expect(nodeMajor(node?.getImageTag() ?? null)).toBe(20);
    const fromNode = file
      .getCOPYs()
      .filter((copy) =>
        copy
          .getFlags()
          .some((flag) => flag.getName() === 'from' && flag.getValue() === node?.getBuildStage()),
      );
    expect(fromNode.map((copy) => copy.getArgumentsContent()?.replace(/^--from=\S+\s+/, ''))).toEqual([
      '/usr/local/bin/node /usr/local/bin/node',
      '/usr/local/lib/node_modules /usr/local/lib/node_modules',
    ]);
    expect(runs(file.getInstructions()).join('\n')).toMatch(/npm install -g npm@11\.\d+\.\d+/);
  });

  it('installs with npm ci, optional dependencies and their install scripts included, then builds', () => {
    const build = runs(stage(file, 'build'));
    const install = build.find((command) => command.startsWith('npm ci'));
    expect(install).toContain('--include=optional');
    expect(install).not.toContain('--ignore-scripts');
    expect(install).not.toContain('--omit=optional');
    expect(build.some((command) => /npm run build/.test(command))).toBe(true);
  });

  it('starts the worker on the GPU queue with the native backend', () => {
    expect(exec(file, 'ENTRYPOINT')).toEqual(['node', 'dist/cli/main.js', 'worker']);
    expect(exec(file, 'CMD')).toEqual(['--queues', 'gpu']);
    const env =
      finalStage(file)
        .find((i) => i.getKeyword() === 'ENV')
        ?.getArgumentsContent() ?? '';
    expect(env).toMatch(/SPIKENAS_BACKEND=tensorflow\b/);
  });
});

describe('docker/Dockerfile.cpu', () => {
  const file = parse('Dockerfile.cpu');

  it('runs on the official Node 20 image', () => {
    const bases = file.getFROMs().filter((from) => from.getImageName() === 'node');
    expect(bases).toHaveLength(1);
    expect(nodeMajor(bases[0]?.getImageTag() ?? null)).toBe(20);
    expect(packageJson.engines.node).toMatch(/^>=20\./);
  });

  it('installs with npm ci without the native TensorFlow packages, then builds', () => {
    const build = runs(stage(file, 'build'));
    const install = build.find((command) => command.startsWith('npm ci'));
    expect(install).toContain('--omit=optional');
    expect(build.some((command) => /npm run build/.test(command))).toBe(true);
  });

  it('starts the worker on the CPU queue with the wasm backend', () => {
    expect(exec(file, 'ENTRYPOINT')).toEqual(['node', 'dist/cli/main.js', 'worker']);
    expect(exec(file, 'CMD')).toEqual(['--queues', 'cpu']);
    const env =
      finalStage(file)
        .find((i) => i.getKeyword() === 'ENV')
        ?.getArgumentsContent() ?? '';
    expect(env).toMatch(/SPIKENAS_BACKEND=wasm\b/);
  });
});

describe('both images', () => {
  it.each(['Dockerfile.gpu', 'Dockerfile.cpu'])(
    '%s runs as a non-root user and keeps local state out of the context',
    (name) => {
      const user = finalStage(parse(name))
        .find((i) => i.getKeyword() === 'USER')
        ?.getArgumentsContent();
      expect(user).toBeDefined();
      expect(user).not.toMatch(/^(root|0)(:|$)/);
      const ignored = readFileSync(new URL(`docker/${name}.dockerignore`, ROOT), 'utf8').split('\n');
      for (const entry of ['node_modules', 'dist', '.spikenas', '.git']) expect(ignored).toContain(entry);
    },
  );
});
