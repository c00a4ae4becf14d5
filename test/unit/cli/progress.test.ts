import { describe, expect, it } from 'vitest';
import { fmtEta } from '../../../src/cli/progress.js';

describe('fmtEta', () => {
  it('rounds to whole seconds before splitting, so no field reads 60', () => {
    expect(fmtEta(369 * 60 + 59.6)).toBe('6h10m');
    expect(fmtEta(59.6)).toBe('1m00s');
    expect(fmtEta(119.5)).toBe('2m00s');
    expect(fmtEta(42.2)).toBe('42s');
    expect(fmtEta(3599.4)).toBe('59m59s');
    expect(fmtEta(Number.NaN)).toBe('?');
  });

  it('never prints 60 in a minutes or seconds field', () => {
    for (let t = 0; t < 20_000; t += 0.37) expect(fmtEta(t)).not.toMatch(/(^|[hm])60[ms]/);
  });
});
