/** `spikenas predict` and `spikenas export`: a run's stored model on a dataset, or as C or NIR. */
import { type ExportFormat, exportC, exportNir } from '../deploy/export.js';
import { predictDataset, type Split } from '../deploy/predict.js';
import { loadStoredModel, resolveRunLocation } from '../deploy/stored-model.js';
import { EXIT } from './exit-codes.js';

export interface PredictFlags {
  dataset: string;
  split: Split;
  limit?: number;
  artifacts: string;
  json?: boolean;
}

export async function predictFromCli(run: string, flags: PredictFlags): Promise<number> {
  const model = await loadStoredModel(resolveRunLocation(run, flags.artifacts));
  const result = await predictDataset(model, flags.dataset, flags.split, flags.limit);
  if (flags.json) console.log(JSON.stringify(result));
  else {
    console.log(result.predictions.join('\n'));
    console.error(
      `spikenas: ${result.count} ${flags.split} images, accuracy ${(100 * result.accuracy).toFixed(2)} % (${model.weightBits}-bit weights)`,
    );
  }
  return EXIT.ok;
}

export interface ExportFlags {
  format: ExportFormat;
  out: string;
  artifacts: string;
  dataset?: string;
  json?: boolean;
}

export async function exportFromCli(run: string, flags: ExportFlags): Promise<number> {
  const model = await loadStoredModel(resolveRunLocation(run, flags.artifacts));
  const result =
    flags.format === 'c'
      ? await exportC(model, flags.out, flags.dataset)
      : await exportNir(model, flags.out, flags.dataset);
  if (flags.json) console.log(JSON.stringify(result));
  else {
    for (const file of result.files) console.log(file);
    console.error(
      `spikenas: ${result.arch} at ${result.weightBits} bits: ${result.flashBytes} B flash, ${result.ramBytes} B RAM (memory model)`,
    );
  }
  return EXIT.ok;
}
