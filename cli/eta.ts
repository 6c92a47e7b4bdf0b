/**
 * Time left in the running stage, from the rate its count has moved since the stage (or its phase) began.
 * No estimate until the count has moved for a while: a rate taken from a stage's first seconds, or from a
 * count that does not move, is how a bar ends up promising "NFs".
 */

/** Watch a count at least this long before estimating from it. */
export const ETA_MIN_OBSERVED_MS = 5_000;
/** Beyond this an estimate says nothing useful. */
const ETA_MAX_MS = 7 * 24 * 3_600_000;

export class StageEta {
  private key = '';
  private first: { at: number; fraction: number } | null = null;

  /**
   * Records where the count of `key` (stage and unit) stands, 0..1 or null when it has none, and returns
   * the milliseconds left in it, or null when no sane estimate exists yet.
   */
  observe(key: string, fraction: number | null, now: number): number | null {
    if (key !== this.key) {
      this.key = key;
      this.first = null;
    }
    if (fraction === null || !Number.isFinite(fraction)) return null;
    if (this.first === null) {
      this.first = { at: now, fraction };
      return null;
    }
    const elapsed = now - this.first.at;
    const moved = fraction - this.first.fraction;
    if (elapsed < ETA_MIN_OBSERVED_MS || moved <= 0) return null;
    const left = (elapsed * (1 - Math.min(1, fraction))) / moved;
    return Number.isFinite(left) && left >= 0 && left <= ETA_MAX_MS ? left : null;
  }
}

/** Time left, as a progress line shows it: 45s, 3m 05s, 2h 07m. */
export function formatTimeLeft(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}
