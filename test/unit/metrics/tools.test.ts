import { describe, expect, it } from 'vitest';
import { isCI } from './tools.js';

describe('isCI', () => {
  it('is any CI value but empty, false or 0 (CI services set true, 1 or their own name)', () => {
    for (const v of ['true', 'TRUE', '1', 'yes', 'woodpecker']) expect(isCI({ CI: v }), v).toBe(true);
    for (const v of [undefined, '', ' ', 'false', 'False', '0'])
      expect(isCI({ CI: v }), String(v)).toBe(false);
  });
});
