/** `spikenas export`: a run's stored model written as C99 source or as an NIR graph. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deployMemory } from '../search/space/deploy-memory.js';
import { C_HEADER, C_SOURCE, renderC } from './c.js';
import { foldModel } from './folded.js';
import { type StoredModel, trainingNormalization } from './stored-model.js';

export const EXPORT_FORMATS = ['c', 'nir'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportResult {
  format: ExportFormat;
  run: string;
  arch: string;
  weightBits: number;
  files: string[];
  /** The memory model's figures for the deployed network (search/space/deploy-memory.ts). */
  flashBytes: number;
  ramBytes: number;
}

/** Writes DIR/spikenas_model.h and DIR/spikenas_model.c. `dataset` names the training data when the run does not. */
export async function exportC(model: StoredModel, outDir: string, dataset?: string): Promise<ExportResult> {
  const net = foldModel(model, await trainingNormalization(model, dataset));
  const rendered = renderC(net, model.arch);
  await mkdir(outDir, { recursive: true });
  const files = [join(outDir, C_HEADER), join(outDir, C_SOURCE)];
  await writeFile(files[0] as string, rendered.header);
  await writeFile(files[1] as string, rendered.source);
  return {
    format: 'c',
    run: model.source,
    arch: model.archText,
    weightBits: model.weightBits,
    files,
    flashBytes: rendered.memory.flashBytes,
    ramBytes: rendered.memory.ramBytes,
  };
}

/** Writes the NIR graph (HDF5) to `outFile`. */
export async function exportNir(
  model: StoredModel,
  outFile: string,
  dataset?: string,
): Promise<ExportResult> {
  // h5wasm is loaded only for this format.
  const { writeNir } = await import('./nir.js');
  const normalization = await trainingNormalization(model, dataset);
  await writeNir(foldModel(model, normalization), normalization, outFile);
  const memory = deployMemory(model.arch, model.config, model.weightBits);
  return {
    format: 'nir',
    run: model.source,
    arch: model.archText,
    weightBits: model.weightBits,
    files: [outFile],
    flashBytes: memory.flashBytes,
    ramBytes: memory.ramBytes,
  };
}
