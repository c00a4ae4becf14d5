import { describe, expect, it } from 'vitest';
import { renderChart, robustTop } from '../../../src/experiment/chart.js';
import { sampleResult } from './fixture.js';

/** Checks XML well-formedness the strict way a browser would for the subset we emit: balanced tags, quoted attributes, escaped text. */
function assertWellFormed(svg: string): void {
  const body = svg.replace(/^<\?xml[^>]*\?>\s*/, '');
  const stack: string[] = [];
  const re = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/g;
  let consumed = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(body)) !== null) {
    if (m.index !== consumed)
      throw new Error(`malformed markup at ${consumed}: ${body.slice(consumed, consumed + 40)}`);
    consumed = re.lastIndex;
    if (m[5] !== undefined) {
      if (/&(?!amp;|lt;|gt;|quot;|#\d+;)/.test(m[5])) throw new Error(`unescaped & in text: ${m[5]}`);
      continue;
    }
    if (m[1] === '/') {
      const open = stack.pop();
      if (open !== m[2]) throw new Error(`</${m[2]}> closes <${open}>`);
    } else if (m[4] !== '/') stack.push(m[2]);
  }
  if (consumed !== body.length) throw new Error(`trailing garbage: ${body.slice(consumed, consumed + 40)}`);
  if (stack.length !== 0) throw new Error(`unclosed: ${stack.join(', ')}`);
}

describe('chart.svg', () => {
  const svg = renderChart(sampleResult());

  it('is a well-formed SVG document with escaped text', () => {
    expect(svg.startsWith('<?xml')).toBe(true);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    assertWellFormed(svg);
    expect(svg).toContain('&quot;quoted&quot;');
    assertWellFormed(renderChart(sampleResult(), { metric: 'loss' }));
  });

  it('draws one panel per arrival order, each with a line and a band per normalizer', () => {
    const panels = [...svg.matchAll(/<g class="panel" data-arrival="([^"]+)">/g)].map((m) => m[1]);
    expect(panels).toEqual(['iid', 'bursty:8']);
    const series = [
      ...svg.matchAll(/<g class="series" data-normalizer="([^"]+)" data-arrival="([^"]+)">/g),
    ].map((m) => `${m[1]}@${m[2]}`);
    expect(series).toEqual(['batch@iid', 'layer@iid', 'batch@bursty:8', 'layer@bursty:8']);
    expect((svg.match(/<path class="line"/g) ?? []).length).toBe(4);
    expect((svg.match(/<polygon class="band"/g) ?? []).length).toBe(4);
    expect((svg.match(/class="point random"/g) ?? []).length).toBe(4);
    // the failed LayerNorm cell at 16 under bursty:8 is not drawn: that line has 2 points, the others 3
    const lengths = [...svg.matchAll(/<path class="line" d="([^"]+)"/g)].map(
      (m) => m[1].split(/[ML]/).filter(Boolean).length,
    );
    expect(lengths).toEqual([3, 3, 3, 2]);
  });

  it('gives each normalizer its own colour and dash pattern', () => {
    const strokes = [
      ...svg.matchAll(
        /<path class="line" d="[^"]+" fill="none" stroke="([^"]+)" stroke-width="2"( stroke-dasharray="[^"]+")?/g,
      ),
    ];
    expect(strokes[0][1]).not.toBe(strokes[1][1]);
    expect(strokes[0][2] ?? '').not.toBe(strokes[1][2] ?? '');
  });

  it('uses a log x axis: batch sizes 1, 4, 16 are equally spaced', () => {
    const ticks = new Map(
      [...svg.matchAll(/class="x-tick" data-value="(\d+)" x1="([\d.]+)"/g)]
        .slice(0, 3)
        .map((m) => [Number(m[1]), Number(m[2])]),
    );
    expect([...ticks.keys()]).toEqual([1, 4, 16]);
    const d1 = (ticks.get(4) as number) - (ticks.get(1) as number);
    const d2 = (ticks.get(16) as number) - (ticks.get(4) as number);
    expect(d1).toBeGreaterThan(10);
    expect(Math.abs(d1 - d2)).toBeLessThan(0.02);
  });

  it('maps a higher error to a higher point (smaller y)', () => {
    const ys = [
      ...svg.matchAll(/<circle class="point" data-batch-size="(\d+)" cx="[\d.]+" cy="([\d.]+)"/g),
    ].map((m) => Number(m[2]));
    // batch series first: errors 0.4, 0.3, 0.2 -> y increasing
    expect(ys[0]).toBeLessThan(ys[1]);
    expect(ys[1]).toBeLessThan(ys[2]);
  });

  it('draws the majority-class reference line in every panel', () => {
    expect((svg.match(/class="baseline"/g) ?? []).length).toBe(2);
  });

  it('keeps the y range for the bulk of the points: an outlier is clipped to the top with its value', () => {
    const res = sampleResult();
    const r = res.rows[1];
    if (r.status === 'ok') r.error = 40; // a broken value, 100 times the others
    const out = renderChart(res);
    expect(out).toContain('class="point clipped"');
    expect(out).toContain('4000.00%');
    const yTicks = /class="tick-labels y-ticks"[\s\S]*?<\/g>/.exec(out)?.[0] ?? '';
    const labels = [...yTicks.matchAll(/>(\d+)%</g)].map((m) => Number(m[1]));
    const top = Math.max(...labels);
    expect(top).toBeLessThanOrEqual(60);
  });
});

describe('robustTop', () => {
  it('ignores values beyond Q3 + 3 IQR and never drops below the baseline', () => {
    expect(robustTop([0.1, 0.2, 0.3, 0.25, 50], [0.01, 0.01, 0.01, 0.01, 0], 0.5).top).toBe(0.5);
    expect(robustTop([0.1, 0.2, 0.3, 0.25], [0.01, 0.01, 0.05, 0.01], 0.2).top).toBeCloseTo(0.35, 12);
  });
});
