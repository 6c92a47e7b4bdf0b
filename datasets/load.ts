import { readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { InputError } from '../common/errors.js';
import { CIFAR_SIDE, CIFAR10, CIFAR100, type CifarFormat, readCifarFiles } from './cifar.js';
import { readIdxPair } from './idx.js';
import { prepareDataset, type RawDataset } from './prepare.js';
import { limitCount } from './raw.js';
import { generateSynthetic, SYNTHETIC_DEFAULTS } from './synthetic.js';
import type { Dataset } from './types.js';

export const DATASET_NAMES = ['fashion-mnist', 'mnist', 'cifar10', 'cifar100', 'synthetic'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

export const DATASET_ALLOWED = `${DATASET_NAMES.join(', ')}, or a path to a folder with IDX or CIFAR binary files`;

export interface LoadOptions {
  /** Folder holding the dataset's files, or a folder with one subfolder per dataset name. */
  dataDir?: string;
  /** Seed of the synthetic set (other datasets are files and need none). Default 0. */
  seed?: number;
  /** Keep only the first N records of each part (synthetic: generate exactly N). */
  limit?: { train?: number; test?: number };
}

/** Where each named dataset is looked for, besides dataDir itself: subfolder names, then system folders. */
const FOLDER_NAMES: Record<Exclude<DatasetName, 'synthetic'>, { subfolders: string[]; system: string[] }> = {
  'fashion-mnist': {
    subfolders: ['fashion-mnist', 'fashion_mnist'],
    system: ['/usr/share/datasets/fashion-mnist'],
  },
  mnist: { subfolders: ['mnist'], system: ['/usr/share/datasets/mnist'] },
  cifar10: { subfolders: ['cifar10', 'cifar-10-batches-bin', 'cifar-10'], system: [] },
  cifar100: { subfolders: ['cifar100', 'cifar-100-binary', 'cifar-100'], system: [] },
};

/** The files of one dataset and the folder that holds them (below the one given, for unpacked archives). */
type DetectedFiles = { folder: string } & (
  | { format: 'idx'; train: { images: string; labels: string }; test: { images: string; labels: string } }
  | { format: 'cifar10' | 'cifar100'; train: string[]; test: string[] }
);

const IDX_STEMS = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;
const CIFAR10_TRAIN = [1, 2, 3, 4, 5].map((k) => `data_batch_${k}.bin`);
const CIFAR10_TEST = 'test_batch.bin';

/**
 * Loads a dataset by name or folder path: decodes, fingerprints and normalises it (see prepareDataset).
 * Named file datasets are looked for in dataDir (or $SPIKENAS_DATA_DIR), its subfolder of that name,
 * then the system folder (Debian's /usr/share/datasets).
 */
export async function loadDataset(spec: string, options: LoadOptions = {}): Promise<Dataset> {
  return prepareDataset(await loadRawDataset(spec, options));
}

/** The decoded uint8 images of a dataset, before normalisation (what a deployed model is fed). */
export async function loadRawDataset(spec: string, options: LoadOptions = {}): Promise<RawDataset> {
  const trainLimit = limitCount(Number.POSITIVE_INFINITY, options.limit?.train, 'limit.train');
  const testLimit = limitCount(Number.POSITIVE_INFINITY, options.limit?.test, 'limit.test');
  if (spec === 'synthetic') {
    const seed = options.seed ?? 0;
    const synthetic = generateSynthetic(seed, {
      trainCount: Number.isFinite(trainLimit) ? trainLimit : SYNTHETIC_DEFAULTS.trainCount,
      testCount: Number.isFinite(testLimit) ? testLimit : SYNTHETIC_DEFAULTS.testCount,
    });
    return {
      name: 'synthetic',
      source: 'generated',
      inputShape: synthetic.shape,
      numClasses: synthetic.numClasses,
      natural: false,
      train: synthetic.train,
      test: synthetic.test,
    };
  }
  const { name, files } = await locate(spec, options.dataDir ?? process.env.SPIKENAS_DATA_DIR);
  return readFiles(name, files, trainLimit, testLimit);
}

async function locate(
  spec: string,
  dataDir: string | undefined,
): Promise<{ name: string; files: DetectedFiles }> {
  if (isKnownFileDataset(spec)) {
    const { subfolders, system } = FOLDER_NAMES[spec];
    const base = dataDir === undefined ? [] : [...subfolders.map((s) => join(dataDir, s)), dataDir];
    const looked: string[] = [];
    for (const folder of [...base, ...system].map((f) => resolve(f))) {
      looked.push(folder);
      const files = await detectFiles(folder);
      if (files !== undefined && files.format === familyOf(spec)) return { name: spec, files };
    }
    throw new InputError(
      'dataset',
      `no ${spec} files found in ${looked.join(', ') || '(no folder: set a data folder)'}; expected ${expectedFiles(spec)}`,
      'a data folder (dataDir or SPIKENAS_DATA_DIR) holding them, or the folder path as the dataset',
    );
  }
  if (!looksLikePath(spec)) throw new InputError('dataset', `unknown dataset '${spec}'`, DATASET_ALLOWED);
  const folder = resolve(spec);
  const info = await stat(folder).catch(() => undefined);
  if (info === undefined) throw new InputError('dataset', `${folder}: folder not found`, DATASET_ALLOWED);
  if (!info.isDirectory()) throw new InputError('dataset', `${folder}: not a folder`, DATASET_ALLOWED);
  const files = await detectFiles(folder);
  if (files === undefined) {
    throw new InputError(
      'dataset',
      `${folder}: no IDX or CIFAR binary files found; expected ${expectedFiles('mnist')}, or ` +
        `${expectedFiles('cifar10')}, or ${expectedFiles('cifar100')}`,
    );
  }
  return { name: nameForFolder(files), files };
}

function isKnownFileDataset(spec: string): spec is Exclude<DatasetName, 'synthetic'> {
  return Object.hasOwn(FOLDER_NAMES, spec);
}

function looksLikePath(spec: string): boolean {
  return /[/\\]/.test(spec) || spec.startsWith('.') || spec.startsWith('~');
}

function familyOf(name: Exclude<DatasetName, 'synthetic'>): DetectedFiles['format'] {
  return name === 'cifar10' || name === 'cifar100' ? name : 'idx';
}

/** IDX folders are named by their folder ('fashion' in it -> fashion-mnist, else mnist); CIFAR by format. */
function nameForFolder(files: DetectedFiles): string {
  if (files.format !== 'idx') return files.format;
  return /fashion/i.test(basename(files.folder)) ? 'fashion-mnist' : 'mnist';
}

function expectedFiles(name: Exclude<DatasetName, 'synthetic'>): string {
  if (name === 'cifar10') return `${CIFAR10_TRAIN.join(', ')}, ${CIFAR10_TEST}`;
  if (name === 'cifar100') return 'train.bin, test.bin';
  return `${Object.values(IDX_STEMS).join('[.gz], ')}[.gz]`;
}

/**
 * Detects the format from file names. A folder that has any file of a format is taken as that format,
 * so a missing companion file is reported by name rather than as "nothing found". A folder with only a
 * CIFAR archive folder inside (as the archives unpack) is followed into it.
 */
async function detectFiles(folder: string): Promise<DetectedFiles | undefined> {
  const entries = await readdir(folder).catch(() => undefined);
  if (entries === undefined) return undefined;
  const present = new Set(entries);
  const idxFile = (stem: string): string | undefined => {
    const found = [
      stem,
      `${stem}.gz`,
      stem.replace('-idx', '.idx'),
      `${stem.replace('-idx', '.idx')}.gz`,
    ].find((candidate) => present.has(candidate));
    return found === undefined ? undefined : join(folder, found);
  };
  const idx = Object.fromEntries(
    Object.entries(IDX_STEMS).map(([key, stem]) => [key, idxFile(stem)]),
  ) as Record<keyof typeof IDX_STEMS, string | undefined>;
  if (Object.values(idx).some((file) => file !== undefined)) {
    const missing = Object.entries(IDX_STEMS).filter(
      ([key]) => idx[key as keyof typeof IDX_STEMS] === undefined,
    );
    if (missing.length > 0) {
      throw new InputError(
        'dataset',
        `${folder}: missing ${missing.map(([, stem]) => `${stem}[.gz]`).join(', ')} (IDX datasets need ` +
          'train and t10k images and labels)',
      );
    }
    return {
      folder,
      format: 'idx',
      train: { images: idx.trainImages as string, labels: idx.trainLabels as string },
      test: { images: idx.testImages as string, labels: idx.testLabels as string },
    };
  }
  if ([...CIFAR10_TRAIN, CIFAR10_TEST].some((file) => present.has(file))) {
    requireFiles(folder, present, [...CIFAR10_TRAIN, CIFAR10_TEST], 'CIFAR-10');
    return {
      folder,
      format: 'cifar10',
      train: CIFAR10_TRAIN.map((file) => join(folder, file)),
      test: [join(folder, CIFAR10_TEST)],
    };
  }
  if (present.has('train.bin') || present.has('test.bin')) {
    requireFiles(folder, present, ['train.bin', 'test.bin'], 'CIFAR-100');
    return {
      folder,
      format: 'cifar100',
      train: [join(folder, 'train.bin')],
      test: [join(folder, 'test.bin')],
    };
  }
  for (const archiveFolder of ['cifar-10-batches-bin', 'cifar-100-binary']) {
    if (present.has(archiveFolder)) return detectFiles(join(folder, archiveFolder));
  }
  return undefined;
}

function requireFiles(folder: string, present: Set<string>, files: string[], what: string): void {
  const missing = files.filter((file) => !present.has(file));
  if (missing.length > 0) {
    throw new InputError(
      'dataset',
      `${folder}: missing ${missing.join(', ')} (${what} needs ${files.join(', ')})`,
    );
  }
}

async function readFiles(
  name: string,
  files: DetectedFiles,
  trainLimit: number,
  testLimit: number,
): Promise<RawDataset> {
  if (files.format === 'idx') {
    const [train, test] = await Promise.all([
      readIdxPair(files.train, trainLimit),
      readIdxPair(files.test, testLimit),
    ]);
    if (train.shape.join() !== test.shape.join()) {
      throw new InputError(
        'dataset',
        `${files.folder}: train images are ${train.shape.slice(0, 2).join(' x ')} but test images are ` +
          `${test.shape.slice(0, 2).join(' x ')}`,
      );
    }
    return {
      name,
      source: files.folder,
      inputShape: train.shape,
      // MNIST-family files have 10 classes; a small limit must not shrink the head, more labels widen it.
      numClasses: Math.max(10, maxLabel(train.raw.labels, test.raw.labels) + 1),
      natural: false,
      train: train.raw,
      test: test.raw,
    };
  }
  const format: CifarFormat = files.format === 'cifar10' ? CIFAR10 : CIFAR100;
  const [train, test] = await Promise.all([
    readCifarFiles(files.train, format, trainLimit),
    readCifarFiles(files.test, format, testLimit),
  ]);
  return {
    name,
    source: files.folder,
    inputShape: [CIFAR_SIDE, CIFAR_SIDE, 3],
    numClasses: format.numClasses,
    natural: true,
    train,
    test,
  };
}

function maxLabel(...parts: Int32Array[]): number {
  let max = 0;
  for (const labels of parts)
    for (let i = 0; i < labels.length; i++) max = Math.max(max, labels[i] as number);
  return max;
}
