import { InputError } from './errors.js';

const UNITS: Record<string, number> = {
  B: 1,
  KB: 1000,
  KIB: 1024,
  MB: 1000 ** 2,
  MIB: 1024 ** 2,
};

export const SIZE_UNITS = 'B, KB, KiB, MB, MiB (e.g. 256KiB, 1.5MB, 4096B)';

/** Parses a memory size such as `256KiB` or `1.5 MB` into bytes; `field` names the input in errors. */
export function parseSize(text: string, field = 'budget'): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]+)\s*$/.exec(text);
  const unit = match?.[2]?.toUpperCase();
  const factor = unit === undefined ? undefined : UNITS[unit];
  if (!match || factor === undefined) {
    throw new InputError(field, `'${text}' is not a size`, SIZE_UNITS);
  }
  const bytes = Math.round(Number(match[1]) * factor);
  if (bytes <= 0) throw new InputError(field, `'${text}' must be more than 0 bytes`, SIZE_UNITS);
  return bytes;
}

/** Formats bytes for people: `262144` -> `256.0 KiB`. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 ** 2).toFixed(2)} MiB`;
}
