import { describe, expect, it } from 'vitest';
import { fmt, keptSections, renderReport } from '../../../bench/report.js';

describe('bench report', () => {
  it('formats numbers to three significant digits with grouped thousands', () => {
    expect(fmt(0.123456)).toBe('0.123');
    expect(fmt(12.3456)).toBe('12.3');
    expect(fmt(123456.7)).toBe('123,457');
    expect(fmt(0)).toBe('0');
    expect(fmt(undefined)).toBe('');
    expect(fmt('x')).toBe('x');
  });

  it('renders each suite with its run, ratios, cases and notes, and says how to reproduce it', () => {
    const md = renderReport(
      [
        {
          suite: 'linear',
          date: '2026-12-05T10:00:00.000Z',
          node: 'v20.20.2',
          ratios: { 'dense ts/c speed': 0.5312 },
          cases: [
            { name: 'ts dense', medianNs: 2_500_000, units: 1000, perUnitNs: 2500, eventsPerSecond: 400_000 },
            { name: 'c | dense', medianNs: 900 },
          ],
          notes: ['C loop compiled with -O2'],
        },
      ],
      'bench/results',
    );
    expect(md).toContain('## linear');
    expect(md).toContain('Run 2026-12-05T10:00:00.000Z on Node v20.20.2. Reproduce: `npm run bench linear`.');
    expect(md).toContain('| dense ts/c speed | 0.531 |');
    expect(md).toContain('| ts dense | 2.5 ms | 1,000 | 2,500 ns | 400,000 |');
    expect(md).toContain('| c \\| dense | 900 ns |  |  |  |');
    expect(md).toContain('- C loop compiled with -O2');
  });

  it('keeps the sections of suites that were not rerun, as they were, and replaces the rerun ones', () => {
    const old = renderReport(
      [
        { suite: 'kafka', date: 'D1', node: 'v20', cases: [{ name: 'kcat', medianNs: 9e8 }] },
        { suite: 'compare', date: 'D0', node: 'v20', cases: [{ name: 'grid', medianNs: 1e9 }] },
      ],
      'bench/results',
    );
    const kept = keptSections(old, ['compare']);
    expect([...kept.keys()]).toEqual(['kafka']);
    const md = renderReport(
      [{ suite: 'compare', date: 'D2', node: 'v20', cases: [{ name: 'grid', medianNs: 2e9 }] }],
      'bench/results',
      kept,
    );
    expect(md).toContain('Run D1 on Node v20. Reproduce: `npm run bench kafka`.');
    expect(md).toContain('| kcat | 900 ms |');
    expect(md).toContain('Run D2 on Node v20.');
    expect(md).not.toContain('Run D0');
    expect(md.indexOf('## compare')).toBeLessThan(md.indexOf('## kafka'));
    expect(md.match(/^## /gm)).toHaveLength(2);
  });
});
