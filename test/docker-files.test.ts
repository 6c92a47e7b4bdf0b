/**
 * The worker images, checked by parsing their Dockerfiles (Docker cannot run here): base images and tags,
 * how Node, the dependencies and the native TensorFlow library are installed, and that both start the
 * CLI's worker command.
 */
import { readFileSync } from 'node:fs';
import { type Copy, type Dockerfile, DockerfileParser, type Env, type Instruction } from 'dockerfile-ast';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, ROOT), 'utf8');
const parse = (name: string): Dockerfile => DockerfileParser.parse(read(`docker/${name}`));
const packageJson = JSON.parse(read('package.json')) as {
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

/** RUN commands (flags such as --mount left out), line continuations joined. */
const runs = (instructions: Instruction[]) =>
  instructions
    .filter((i) => i.getKeyword() === 'RUN')
    .map((i) => (i.getArgumentsContent() ?? '').replace(/\\\n/g, ' ').replace(/\s+/g, ' '));

/** Every ENV variable the instructions set (later ones win). */
function envOf(instructions: Instruction[]): Map<string, string> {
  const env = new Map<string, string>();
  for (const i of instructions.filter((i) => i.getKeyword() === 'ENV')) {
    for (const property of (i as Env).getProperties()) env.set(property.getName(), property.getValue() ?? '');
  }
  return env;
}

function exec(file: Dockerfile, keyword: 'ENTRYPOINT' | 'CMD'): string[] {
  const instruction = finalStage(file).find((i) => i.getKeyword() === keyword);
  expect(instruction, keyword).toBeDefined();
  // Exec (JSON) form only: a shell form would put /bin/sh between ECS's stop signal and node.
  return JSON.parse(instruction?.getArgumentsContent() ?? 'null') as string[];
}

/** scripts/tensorflow.sh's pins, read from the script: the one library recipe both images call. */
function recipe(): { tfVersion: string; cudaWheels: string[]; wheelTags: string } {
  const script = read('scripts/tensorflow.sh');
  const tfVersion = /^TF_VERSION="([^"]+)"$/m.exec(script)?.[1] ?? '';
  const cudaWheels = (/^CUDA_WHEELS=\(([^)]*)\)/m.exec(script)?.[1] ?? '').split(/\s+/).filter(Boolean);
  const wheelTags = /^WHEEL_TAGS=\(([^)]*)\)/m.exec(script)?.[1] ?? '';
  return { tfVersion, cudaWheels, wheelTags };
}

const IMAGES = [
  { name: 'Dockerfile.gpu', flavour: 'gpu', pkg: '@tensorflow/tfjs-node-gpu', queue: 'gpu' },
  { name: 'Dockerfile.cpu', flavour: 'cpu', pkg: '@tensorflow/tfjs-node', queue: 'cpu' },
] as const;

describe.each(IMAGES.map((image) => [image.name, image] as const))(
  'docker/%s',
  (name, { flavour, pkg, queue }) => {
    const file = parse(name);

    it('builds every stage on one exact Node 22 Debian slim image, with npm 11', () => {
      const images = file
        .getFROMs()
        .map((from) => from.getImageName())
        .filter((image) => image !== 'base');
      // No nvidia/cuda (or other) base: CUDA and cuDNN come with the library, the driver with the runtime.
      expect(images).toEqual(['node']);
      const node = file.getFROMs()[0];
      expect(node?.getImageTag()).toMatch(/^22\.\d+\.\d+-bookworm-slim$/);
      expect(node?.getBuildStage()).toBe('base');
      expect(stage(file, 'build')[0]?.getArgumentsContent()).toBe('base AS build');
      expect(finalStage(file)[0]?.getArgumentsContent()).toBe('base');
      // The image's Node satisfies the package's engines range (>=20.19 or similar).
      expect(Number(/^>=(\d+)\./.exec(packageJson.engines.node)?.[1])).toBeLessThanOrEqual(22);
      // npm 11 honours package.json's allowScripts, which keeps tfjs-node's own install script off.
      expect(runs(stage(file, 'base')).join('\n')).toMatch(/npm install -g npm@11\.\d+\.\d+/);
    });

    it('installs with npm ci, optional dependencies included, then builds', () => {
      const build = runs(stage(file, 'build'));
      const install = build.find((command) => command.startsWith('npm ci'));
      expect(install).toContain('--include=optional');
      expect(install).not.toContain('--ignore-scripts');
      expect(install).not.toContain('--omit=optional');
      expect(build.some((command) => /npm run build/.test(command))).toBe(true);
      expect(build.find((command) => command.includes('npm prune'))).toContain('--include=optional');
      expect(packageJson.optionalDependencies[pkg]).toBe('4.22.0');
    });

    it(`builds the ${flavour} library with scripts/tensorflow.sh after npm ci, and fails the image if it cannot`, () => {
      const build = stage(file, 'build');
      const commands = runs(build);
      const install = commands.findIndex((command) => /(^|&& )npm ci\b/.test(command));
      const library = commands.findIndex((command) =>
        new RegExp(`\\bbash scripts/tensorflow\\.sh install ${flavour}$`).test(command),
      );
      expect(library, `RUN bash scripts/tensorflow.sh install ${flavour}`).toBeGreaterThan(install);
      expect(install).toBeGreaterThanOrEqual(0);
      // Exactly one flavour per image.
      expect(commands.filter((command) => command.includes('tensorflow.sh install'))).toHaveLength(1);
      // The script is in the build context before that RUN.
      const copied = build.findIndex(
        (i) => i.getKeyword() === 'COPY' && /^scripts\/tensorflow\.sh\s/.test(i.getArgumentsContent() ?? ''),
      );
      const runIndex = build.findIndex(
        (i) => i.getKeyword() === 'RUN' && /tensorflow\.sh install/.test(i.getArgumentsContent() ?? ''),
      );
      expect(copied).toBeGreaterThanOrEqual(0);
      expect(copied).toBeLessThan(runIndex);
      // Both set before that RUN.
      const env = envOf(build.slice(0, runIndex));
      expect(env.get('SPIKENAS_TF_STRICT')).toBe('1');
      expect(env.get('SPIKENAS_STATE_DIR')).toMatch(/^\/\S+$/);
    });

    it('keeps the library at the same absolute path in the final image and loads the binding there', () => {
      // node_modules/<pkg>/deps/ links to $SPIKENAS_STATE_DIR/tensorflow/<flavour>-<version> by absolute path.
      const state = envOf(stage(file, 'build')).get('SPIKENAS_STATE_DIR');
      const last = finalStage(file);
      const copies = last
        .filter((i) => i.getKeyword() === 'COPY')
        .filter((i) =>
          (i as Copy).getFlags().some((flag) => flag.getName() === 'from' && flag.getValue() === 'build'),
        )
        .map((i) => i.getArgumentsContent());
      expect(copies).toContain(`${state}/tensorflow ${state}/tensorflow`);
      expect(copies).toContain('/app/node_modules ./node_modules');
      // The final stage's own check: the package loads from the copied tree, so a dangling link fails the build.
      const check = runs(last).find((command) => command.includes(`require('${pkg}')`));
      expect(check, `RUN node -e "require('${pkg}')" in the final stage`).toBeDefined();
      const keywords = last.map((i) => i.getKeyword());
      expect(keywords.indexOf('RUN')).toBeGreaterThan(keywords.lastIndexOf('COPY'));
    });

    it(`starts the worker on the ${queue} queue with the native backend, as a non-root user`, () => {
      expect(exec(file, 'ENTRYPOINT')).toEqual(['node', 'dist/cli/main.js', 'worker']);
      expect(exec(file, 'CMD')).toEqual(['--queues', queue]);
      expect(envOf(finalStage(file)).get('SPIKENAS_BACKEND')).toBe('tensorflow');
      const user = finalStage(file)
        .find((i) => i.getKeyword() === 'USER')
        ?.getArgumentsContent();
      expect(user).toBeDefined();
      expect(user).not.toMatch(/^(root|0)(:|$)/);
    });

    it('takes npm and PyPI mirrors as build arguments in every stage that fetches', () => {
      const args = (instructions: Instruction[]) =>
        instructions
          .filter((i) => i.getKeyword() === 'ARG')
          .map((i) => i.getArgumentsContent()?.split('=')[0]);
      // Declared before the first FROM with the public registries as defaults, then taken in by each stage.
      const global = file.getInstructions().slice(
        0,
        file.getInstructions().findIndex((i) => i.getKeyword() === 'FROM'),
      );
      expect(args(global).sort()).toEqual(['NPM_CONFIG_REGISTRY', 'PIP_INDEX_URL']);
      expect(args(stage(file, 'base'))).toContain('NPM_CONFIG_REGISTRY');
      expect(args(stage(file, 'build')).sort()).toEqual(['NPM_CONFIG_REGISTRY', 'PIP_INDEX_URL']);
    });

    it('keeps local state and build output out of the build context', () => {
      const ignored = read(`docker/${name}.dockerignore`).split('\n');
      for (const entry of ['node_modules', 'dist', '.spikenas', '.git']) expect(ignored).toContain(entry);
      expect(ignored).not.toContain('scripts');
    });
  },
);

describe('docker/Dockerfile.gpu: CUDA', () => {
  const file = parse('Dockerfile.gpu');

  it('asks the NVIDIA container runtime for the driver and a CUDA 12 one', () => {
    const env = envOf(finalStage(file));
    expect(env.get('NVIDIA_VISIBLE_DEVICES')).toBe('all');
    expect(env.get('NVIDIA_DRIVER_CAPABILITIES')?.split(',').sort()).toEqual(['compute', 'utility']);
    expect(env.get('NVIDIA_REQUIRE_CUDA')).toBe('cuda>=12.0');
    // The libraries' RUNPATH finds CUDA through deps/nvidia: no LD_LIBRARY_PATH needed.
    expect(env.has('LD_LIBRARY_PATH')).toBe(false);
  });

  it('gets TensorFlow 2.16.2 with CUDA 12.3 and cuDNN 8.9 from the pinned wheels', () => {
    const { tfVersion, cudaWheels, wheelTags } = recipe();
    expect(tfVersion).toBe('2.16.2');
    expect(cudaWheels).toContain('nvidia-cuda-runtime-cu12==12.3.101');
    expect(cudaWheels.find((wheel) => wheel.startsWith('nvidia-cudnn-cu12=='))).toMatch(/==8\.9\./);
    expect(cudaWheels).toHaveLength(12);
    // The CUDA 12.3 wheels are tagged manylinux1 only: pip admits them under manylinux2014, not manylinux_2_17.
    expect(wheelTags).toContain('--platform manylinux2014_x86_64');
  });
});
