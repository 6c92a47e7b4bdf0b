/** The run's Pareto plot (pareto.svg): weight memory against SAHD score, with the front, the budget and the winner. */
import { formatSize } from '../common/size.js';
import { isUsableScore } from '../search/predictors/scoring.js';
import type { ScoredCandidate } from '../search/strategy/search-result.js';

export interface ParetoPlotInput {
  /** Candidates with a full SAHD score (one dot each). Unusable scores are left out and counted. */
  candidates: readonly ScoredCandidate[];
  /** Candidates with a cheap first-pass score, drawn in a panel of their own (another scale). */
  firstPass?: readonly ScoredCandidate[];
  /** The front, any order; drawn as a line by increasing weight memory, each point marked. */
  pareto: readonly ScoredCandidate[];
  budgetBytes: number | null;
  winner: string | null;
  /** Candidates whose score could not be used (singular SAHD kernel), shown as a count. */
  unusable?: number;
  title?: string;
}

const WIDTH = 720;
const PANEL_HEIGHT = 350;
const PANEL_GAP = 90;
const MARGIN = { left: 80, right: 30, top: 70, bottom: 60 };

/**
 * An SVG scatter of weight memory (x) against score (y). The top panel holds the full SAHD scores: every
 * such candidate as circle.candidate, the front as polyline.pareto with circle.pareto-point markers (so a
 * front of one point shows), the budget as line.budget and the winner as circle.winner. When a cheap first
 * pass ran, a second panel below, on the same memory axis, holds every first-pass score as
 * circle.first-pass: its scale (T = 1, small batches) is not the full score's, so it is not mixed in.
 */
export function renderParetoSvg(input: ParetoPlotInput): string {
  const usable = (list: readonly ScoredCandidate[]) =>
    list.filter((c) => isUsableScore(c.score) && Number.isFinite(c.weightBytes));
  const full = usable(input.candidates);
  const first = usable(input.firstPass ?? []);
  const dropped =
    input.candidates.length -
    full.length +
    (input.firstPass?.length ?? 0) -
    first.length +
    (input.unusable ?? 0);
  const panels = first.length > 0 ? 2 : 1;
  const height = MARGIN.top + panels * PANEL_HEIGHT + (panels - 1) * PANEL_GAP + MARGIN.bottom;
  const xs = [...full, ...first].map((c) => c.weightBytes);
  if (input.budgetBytes !== null) xs.push(input.budgetBytes);
  // Ticks at round numbers of the unit the largest value is shown in (B, KiB or MiB).
  const xUnit = Math.max(0, ...xs) >= 1024 ** 2 ? 1024 ** 2 : Math.max(0, ...xs) >= 1024 ? 1024 : 1;
  const xScale = linearScale(xs, MARGIN.left, WIDTH - MARGIN.right, true, xUnit);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ` +
      'font-family="sans-serif" font-size="12">',
    `<rect width="${WIDTH}" height="${height}" fill="white"/>`,
    `<text class="title" x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15">` +
      `${escapeXml(input.title ?? 'Weight memory vs SAHD score')}</text>`,
  );

  const top = MARGIN.top;
  const yScale = drawPanel(parts, {
    top,
    xScale,
    xUnit,
    scores: full.map((c) => c.score),
    yLabel: 'full SAHD score (log |det K|)',
    budgetBytes: input.budgetBytes,
  });
  for (const c of full) {
    parts.push(
      `<circle class="candidate" cx="${fixed(xScale.map(c.weightBytes))}" cy="${fixed(yScale.map(c.score))}" r="3" ` +
        `fill="#4a90d9" fill-opacity="0.55"><title>${escapeXml(candidateTitle(c))}</title></circle>`,
    );
  }
  const front = usable(input.pareto)
    .slice()
    .sort((a, b) => a.weightBytes - b.weightBytes || a.score - b.score);
  if (front.length > 0) {
    const points = front
      .map((c) => `${fixed(xScale.map(c.weightBytes))},${fixed(yScale.map(c.score))}`)
      .join(' ');
    parts.push(`<polyline class="pareto" points="${points}" fill="none" stroke="#e67e22" stroke-width="2"/>`);
    for (const c of front) {
      parts.push(
        `<circle class="pareto-point" cx="${fixed(xScale.map(c.weightBytes))}" cy="${fixed(yScale.map(c.score))}" ` +
          `r="4.5" fill="#e67e22"><title>${escapeXml(`front: ${candidateTitle(c)}`)}</title></circle>`,
      );
    }
  }
  const winner = input.winner === null ? undefined : full.find((c) => c.arch === input.winner);
  if (winner !== undefined) {
    const cx = fixed(xScale.map(winner.weightBytes));
    const cy = fixed(yScale.map(winner.score));
    parts.push(
      `<circle class="winner" cx="${cx}" cy="${cy}" r="7" fill="none" stroke="#27ae60" stroke-width="2.5">` +
        `<title>${escapeXml(`winner: ${candidateTitle(winner)}`)}</title></circle>`,
      `<text x="${fixed(xScale.map(winner.weightBytes) + 10)}" y="${fixed(yScale.map(winner.score) - 8)}" ` +
        `fill="#27ae60">winner</text>`,
    );
  }

  if (panels === 2) {
    const secondTop = top + PANEL_HEIGHT + PANEL_GAP;
    parts.push(
      `<text class="panel-title" x="${MARGIN.left}" y="${secondTop - 14}">` +
        `Cheap first pass (T = 1, small batches): ${first.length} candidates; the best went on to full SAHD</text>`,
    );
    const firstScale = drawPanel(parts, {
      top: secondTop,
      xScale,
      xUnit,
      scores: first.map((c) => c.score),
      yLabel: 'first-pass score',
      budgetBytes: input.budgetBytes,
    });
    const survivors = new Set(full.map((c) => c.arch));
    for (const c of first) {
      const chosen = survivors.has(c.arch);
      parts.push(
        `<circle class="first-pass" cx="${fixed(xScale.map(c.weightBytes))}" cy="${fixed(firstScale.map(c.score))}" ` +
          `r="${chosen ? 4 : 2.5}" fill="${chosen ? 'none' : '#7f8c8d'}" stroke="${chosen ? '#4a90d9' : 'none'}" ` +
          `fill-opacity="0.5"><title>${escapeXml(`first pass${chosen ? ', went on' : ''}: ${candidateTitle(c)}`)}</title></circle>`,
      );
    }
  }

  // Legend in a row above the plot, where it cannot hide a dot.
  parts.push(
    `<g class="legend" transform="translate(${MARGIN.left} 46)">`,
    '<circle cx="6" cy="0" r="3" fill="#4a90d9" fill-opacity="0.55"/>',
    `<text x="16" y="4">full SAHD score (${full.length})</text>`,
    '<line x1="160" y1="0" x2="174" y2="0" stroke="#e67e22" stroke-width="2"/><circle cx="167" cy="0" r="3.5" fill="#e67e22"/>',
    `<text x="180" y="4">Pareto front (${front.length})</text>`,
    '<circle cx="300" cy="0" r="6" fill="none" stroke="#27ae60" stroke-width="2.5"/>',
    '<text x="312" y="4">winner</text>',
    '<line x1="370" y1="0" x2="384" y2="0" stroke="#c0392b" stroke-dasharray="6 4" stroke-width="1.5"/>',
    '<text x="390" y="4">budget</text>',
    ...(panels === 2
      ? [
          '<circle cx="450" cy="0" r="2.5" fill="#7f8c8d"/>',
          `<text x="458" y="4">first-pass score (${first.length})</text>`,
        ]
      : []),
    '</g>',
  );
  if (dropped > 0) {
    parts.push(
      `<text class="note" x="${MARGIN.left}" y="${height - 4}" font-size="10">` +
        `${dropped} candidate(s) without a usable score (singular SAHD kernel) not shown</text>`,
    );
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** One panel's axes, ticks, labels and budget line; returns its score scale. */
function drawPanel(
  parts: string[],
  panel: {
    top: number;
    xScale: Scale;
    xUnit: number;
    scores: number[];
    yLabel: string;
    budgetBytes: number | null;
  },
): Scale {
  const { top, xScale, xUnit } = panel;
  const bottom = top + PANEL_HEIGHT;
  const right = WIDTH - MARGIN.right;
  const yScale = linearScale(panel.scores, bottom, top, false);
  parts.push(
    `<line class="axis" x1="${MARGIN.left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="black"/>`,
    `<line class="axis" x1="${MARGIN.left}" y1="${top}" x2="${MARGIN.left}" y2="${bottom}" stroke="black"/>`,
  );
  for (const tick of xScale.ticks) {
    const x = fixed(xScale.map(tick));
    parts.push(
      `<line x1="${x}" y1="${bottom}" x2="${x}" y2="${bottom + 5}" stroke="black"/>`,
      `<text class="tick" x="${x}" y="${bottom + 18}" text-anchor="middle">` +
        `${escapeXml(bytesTickText(tick, xUnit, xScale.step))}</text>`,
    );
  }
  for (const tick of yScale.ticks) {
    const y = fixed(yScale.map(tick));
    parts.push(
      `<line x1="${MARGIN.left - 5}" y1="${y}" x2="${MARGIN.left}" y2="${y}" stroke="black"/>`,
      `<line x1="${MARGIN.left}" y1="${y}" x2="${right}" y2="${y}" stroke="#eee"/>`,
      `<text class="tick" x="${MARGIN.left - 8}" y="${fixed(yScale.map(tick) + 4)}" text-anchor="end">` +
        `${escapeXml(tickText(tick, yScale.step))}</text>`,
    );
  }
  parts.push(
    `<text class="axis-label" x="${(MARGIN.left + right) / 2}" y="${bottom + 40}" text-anchor="middle">` +
      'weight memory</text>',
    `<text class="axis-label" x="20" y="${(top + bottom) / 2}" text-anchor="middle" ` +
      `transform="rotate(-90 20 ${(top + bottom) / 2})">${escapeXml(panel.yLabel)}</text>`,
  );
  if (panel.budgetBytes !== null) {
    const x = fixed(xScale.map(panel.budgetBytes));
    parts.push(
      `<line class="budget" x1="${x}" y1="${top}" x2="${x}" y2="${bottom}" stroke="#c0392b" ` +
        'stroke-dasharray="6 4" stroke-width="1.5"/>',
      `<text x="${fixed(xScale.map(panel.budgetBytes) - 4)}" y="${top + 12}" text-anchor="end" fill="#c0392b">` +
        `budget ${escapeXml(formatSize(panel.budgetBytes))}</text>`,
    );
  }
  return yScale;
}

interface Scale {
  map: (value: number) => number;
  ticks: number[];
  step: number;
}

/** A linear scale over the values' range (padded; from 0 when `fromZero`) with "nice" tick values. */
function linearScale(values: number[], from: number, to: number, fromZero: boolean, unit = 1): Scale {
  let low = values.length > 0 ? Math.min(...values) : 0;
  let high = values.length > 0 ? Math.max(...values) : 1;
  if (fromZero) low = Math.min(0, low);
  if (high - low < 1e-9) {
    const pad = Math.abs(high) > 0 ? Math.abs(high) * 0.1 : 1;
    low -= pad;
    high += pad;
  }
  const step = niceStep((high - low) / unit / 5) * unit;
  low = Math.floor(low / step) * step;
  high = Math.ceil(high / step) * step;
  const ticks: number[] = [];
  for (let t = low; t <= high + step / 2; t += step) ticks.push(Number(t.toPrecision(12)));
  return { map: (value) => from + ((value - low) / (high - low)) * (to - from), ticks, step };
}

function niceStep(rough: number): number {
  const power = 10 ** Math.floor(Math.log10(rough));
  const fraction = rough / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}

function tickText(value: number, step: number): string {
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  return value.toFixed(decimals);
}

function bytesTickText(bytes: number, unit: number, step: number): string {
  const name = unit === 1 ? 'B' : unit === 1024 ? 'KiB' : 'MiB';
  return `${tickText(bytes / unit, step / unit)} ${name}`;
}

function candidateTitle(c: ScoredCandidate): string {
  return `${c.arch}: ${c.params} params, ${formatSize(c.weightBytes)}, score ${c.score.toFixed(3)}`;
}

function fixed(value: number): string {
  return value.toFixed(1);
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
