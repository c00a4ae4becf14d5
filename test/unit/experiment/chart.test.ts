import { describe, expect, it } from 'vitest';
import { renderChart } from '../../../src/experiment/chart.js';
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
  });

  it('draws one line and one band per normalizer, and random batch sizes as hollow points', () => {
    const series = [...svg.matchAll(/<g class="series" data-normalizer="([^"]+)">/g)].map((m) => m[1]);
    expect(series).toEqual(['batch', 'layer']);
    expect((svg.match(/<path class="line"/g) ?? []).length).toBe(2);
    expect((svg.match(/<polygon class="band"/g) ?? []).length).toBe(2);
    expect((svg.match(/class="point random"/g) ?? []).length).toBe(2);
    // each line goes through the 3 fixed batch sizes
    for (const m of svg.matchAll(/<path class="line" d="([^"]+)"/g))
      expect(m[1].split(/[ML]/).filter(Boolean).length).toBe(3);
  });

  it('uses a log x axis: batch sizes 1, 4, 16 are equally spaced', () => {
    const ticks = new Map(
      [...svg.matchAll(/class="x-tick" data-value="(\d+)" x1="([\d.]+)"/g)].map((m) => [
        Number(m[1]),
        Number(m[2]),
      ]),
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

  it('draws the majority-class reference line', () => {
    expect(svg).toContain('class="baseline"');
  });
});
