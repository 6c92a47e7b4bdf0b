import { DOMParser, type Element, onWarningStopParsing } from '@xmldom/xmldom';
import { describe, expect, it } from 'vitest';
import { renderParetoSvg } from '../reports/pareto-plot.js';
import { UNUSABLE_SCORE } from '../search/predictors/scoring.js';
import type { ScoredCandidate } from '../search/strategy/search-result.js';
import { candidates, front } from './support/scored-candidates.js';

function parseSvg(svg: string) {
  return new DOMParser({ onError: onWarningStopParsing }).parseFromString(svg, 'image/svg+xml');
}

function byClass(doc: ReturnType<typeof parseSvg>, tag: string, cls: string): Element[] {
  return Array.from(doc.getElementsByTagName(tag)).filter((e) => e.getAttribute('class') === cls);
}

describe('renderParetoSvg', () => {
  const all = candidates(37, 5);
  const pareto = front(all);
  const winner = pareto[0] as ScoredCandidate;
  const budgetBytes = 150_000;

  it('is well-formed XML with one dot per scored candidate, the front, the budget and the winner', () => {
    // Both kinds of unusable score: a non-finite one and the stand-in the scoring stage stores (JSON has no
    // -Infinity); either would stretch the score axis to nothing.
    const withBad = [
      ...all,
      { ...winner, arch: 'broken', score: Number.NEGATIVE_INFINITY },
      { ...winner, arch: 'singular', score: UNUSABLE_SCORE },
    ];
    const svg = renderParetoSvg({
      candidates: withBad,
      pareto,
      budgetBytes,
      winner: winner.arch,
      title: 'a < b & c',
    });
    const doc = parseSvg(svg);
    expect(doc.documentElement?.tagName).toBe('svg');
    const dots = byClass(doc, 'circle', 'candidate');
    expect(dots).toHaveLength(all.length);
    expect(byClass(doc, 'circle', 'winner')).toHaveLength(1);
    expect(byClass(doc, 'line', 'budget')).toHaveLength(1);
    const polylines = byClass(doc, 'polyline', 'pareto');
    expect(polylines).toHaveLength(1);
    expect(polylines[0]?.getAttribute('points')?.split(' ')).toHaveLength(pareto.length);
    const labels = byClass(doc, 'text', 'axis-label').map((t) => t.textContent);
    expect(labels).toEqual(['weight memory', 'full SAHD score (log |det K|)']);
    expect(byClass(doc, 'text', 'title')[0]?.textContent).toBe('a < b & c');
    expect(byClass(doc, 'text', 'note')[0]?.textContent).toContain('2 candidate(s) without a usable score');
  });

  it('places dots by memory and score, and the budget line between lighter and heavier ones', () => {
    const doc = parseSvg(renderParetoSvg({ candidates: all, pareto, budgetBytes, winner: null }));
    const dots = byClass(doc, 'circle', 'candidate').map((e) => ({
      x: Number(e.getAttribute('cx')),
      y: Number(e.getAttribute('cy')),
    }));
    const budgetX = Number(byClass(doc, 'line', 'budget')[0]?.getAttribute('x1'));
    all.forEach((c, i) => {
      const dot = dots[i] as { x: number; y: number };
      expect(dot.x < budgetX, c.arch).toBe(c.weightBytes < budgetBytes);
    });
    // Lighter candidates sit further left, better-scoring ones higher (smaller y).
    const byMemory = all
      .map((c, i) => [c.weightBytes, dots[i]?.x as number])
      .sort((a, b) => (a[0] as number) - (b[0] as number));
    for (let i = 1; i < byMemory.length; i++)
      expect(byMemory[i]?.[1]).toBeGreaterThanOrEqual(byMemory[i - 1]?.[1] as number);
    const byScore = all
      .map((c, i) => [c.score, dots[i]?.y as number])
      .sort((a, b) => (a[0] as number) - (b[0] as number));
    for (let i = 1; i < byScore.length; i++)
      expect(byScore[i]?.[1]).toBeLessThanOrEqual(byScore[i - 1]?.[1] as number);
    expect(byClass(doc, 'circle', 'winner')).toHaveLength(0);
  });

  it('plots every first-pass score in a panel of its own, marking the ones that went on to full SAHD', () => {
    const firstPass = [
      ...candidates(150, 9).map((c) => ({ ...c, arch: `first-${c.arch}`, score: c.score / 10 })),
      ...all.map((c) => ({ ...c, score: c.score / 10 })),
      { ...winner, arch: 'singular-first', score: UNUSABLE_SCORE },
    ];
    const doc = parseSvg(
      renderParetoSvg({ candidates: all, firstPass, pareto, budgetBytes, winner: winner.arch }),
    );
    const first = byClass(doc, 'circle', 'first-pass');
    expect(first).toHaveLength(150 + all.length);
    // The survivors stand out from the rest of the first pass.
    expect(first.filter((e) => e.getAttribute('fill') === 'none')).toHaveLength(all.length);
    expect(byClass(doc, 'circle', 'candidate')).toHaveLength(all.length);
    // One budget line per panel, and each panel says which score it shows.
    expect(byClass(doc, 'line', 'budget')).toHaveLength(2);
    expect(byClass(doc, 'text', 'axis-label').map((t) => t.textContent)).toEqual([
      'weight memory',
      'full SAHD score (log |det K|)',
      'weight memory',
      'first-pass score',
    ]);
    expect(byClass(doc, 'text', 'note')[0]?.textContent).toContain('1 candidate(s) without a usable score');
  });

  it('marks every point of the front, so a front of one point shows', () => {
    const one = [winner];
    const doc = parseSvg(renderParetoSvg({ candidates: all, pareto: one, budgetBytes, winner: winner.arch }));
    const points = byClass(doc, 'circle', 'pareto-point');
    expect(points).toHaveLength(1);
    expect(Number(points[0]?.getAttribute('r'))).toBeGreaterThan(0);
    const many = parseSvg(renderParetoSvg({ candidates: all, pareto, budgetBytes, winner: null }));
    expect(byClass(many, 'circle', 'pareto-point')).toHaveLength(pareto.length);
  });

  it('draws an empty plot without a budget when there is nothing to show', () => {
    const doc = parseSvg(renderParetoSvg({ candidates: [], pareto: [], budgetBytes: null, winner: null }));
    expect(byClass(doc, 'circle', 'candidate')).toHaveLength(0);
    expect(byClass(doc, 'line', 'budget')).toHaveLength(0);
    expect(byClass(doc, 'polyline', 'pareto')).toHaveLength(0);
  });
});
