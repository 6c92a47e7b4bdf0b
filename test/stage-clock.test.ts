import { describe, expect, it } from 'vitest';
import { type Span, StepClock, spansOf, wallMsOf } from '../pipeline/stage-clock.js';

const span = (execution: string, from: number, to: number): Span => ({ execution, from, to });

describe('wallMsOf', () => {
  it('is the first start to the last end of one execution, however its steps overlap', () => {
    // A light step, two shards side by side, a light step: the gaps between steps count.
    const spans = [span('e1', 100, 110), span('e1', 120, 400), span('e1', 125, 390), span('e1', 402, 410)];
    expect(wallMsOf(spans)).toBe(310);
  });

  it('sums the executions, leaving out the pause between a stopped one and the one that resumed it', () => {
    // e1 kept work until 250 (its newest checkpoint), was stopped, and e2 resumed at 5,000.
    const spans = [
      span('e1', 100, 110),
      span('e1', 120, 250),
      span('e2', 5_000, 5_300),
      span('e2', 5_310, 5_320),
    ];
    expect(wallMsOf(spans)).toBe(150 + 320);
  });

  it("counts a retry within one execution from the execution's first start (that time was the search's)", () => {
    expect(wallMsOf([span('e1', 0, 50), span('e1', 1_000, 1_100)])).toBe(1_100);
  });

  it('is 0 with no spans', () => {
    expect(wallMsOf([])).toBe(0);
  });
});

describe('StepClock', () => {
  it("records the earlier attempts' spans and its own, from its start to each call", async () => {
    const earlier = [span('e1', 0, 10)];
    const clock = new StepClock('e2', earlier);
    const first = clock.spans();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = clock.spans();
    expect(first.slice(0, 1)).toEqual(earlier);
    expect(first[1]?.execution).toBe('e2');
    expect(second[1]?.from).toBe(first[1]?.from);
    expect((second[1]?.to ?? 0) - (first[1]?.to ?? 0)).toBeGreaterThanOrEqual(15);
    expect(earlier).toHaveLength(1);
  });
});

describe('spansOf', () => {
  it("is a stage file's spans, and none for a file written before spans were recorded", () => {
    expect(spansOf({ spans: [span('e1', 1, 2)] })).toEqual([span('e1', 1, 2)]);
    expect(spansOf({})).toEqual([]);
  });
});
