/**
 * The publishing options of `streamnorm run`: a config file's `producer` section and the flags merge field by
 * field (flags win), and a bad value is refused naming the field.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/cli/config.js';

function configFile(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'sn-producer-')), 'config.yaml');
  writeFileSync(path, text);
  return path;
}

describe('run producer settings (config + flags)', () => {
  it('merges the file and the flags field by field, flags winning', () => {
    const file = configFile('producer:\n  acks: leader\n  compression: gzip\n  batchRecords: 100\n');
    const cfg = resolveConfig({ producer: { batchRecords: 50, lingerMs: 5, acks: undefined } }, file, {});
    expect(cfg.producer).toEqual({ acks: 'leader', compression: 'gzip', batchRecords: 50, lingerMs: 5 });
  });

  it('refuses a bad value, naming the field', () => {
    const file = configFile('producer:\n  maxInFlight: 0\n');
    expect(() => resolveConfig({}, file, {})).toThrow(/producer\.maxInFlight/);
    const other = configFile('producer:\n  acks: none\n');
    expect(() => resolveConfig({}, other, {})).toThrow(/producer\.acks/);
  });
});
