/** The machine a measurement ran on, as far as it decides how fast the measurement went. */
import { existsSync, readFileSync } from 'node:fs';
import { arch, availableParallelism, cpus, platform, totalmem } from 'node:os';

export interface MachineIdentity {
  cores: number;
  arch: string;
  platform: string;
  cpuModel: string;
  memoryBytes: number;
  /** The CPU's vector extensions (avx2, avx512f, fma, ...; /proc/cpuinfo): machines of one cpuModel differ in them. */
  vectorExtensions: string[];
}

export function machineIdentity(): MachineIdentity {
  return {
    cores: availableParallelism(),
    arch: arch(),
    platform: platform(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown CPU',
    memoryBytes: totalmem(),
    vectorExtensions: vectorExtensions(),
  };
}

/** The CPU's SIMD and matrix extensions, as Linux lists them (none elsewhere). */
function vectorExtensions(): string[] {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const flags = /^flags\s*:(.*)$/m.exec(cpuinfo)?.[1]?.trim().split(/\s+/) ?? [];
  return flags.filter((flag) => /^(sse4_2|avx|fma|amx)/.test(flag)).sort();
}
