/** `--checkpoint-keep`: the K newest checkpoints are kept; the damage fallback to the previous one still works. */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointError } from '../../../src/errors.js';
import { FileCheckpointStore, parseCheckpoint } from '../../../src/streams/checkpointStore.js';

const state = (v: number) => ({ kind: 'test', options: {}, w: [v] });
const input = (i: number) => ({ models: { m: state(i) }, offsets: { 't:0': String(i) }, topic: 't' });

describe('checkpoint retention', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'streamnorm-keep-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('by default keeps the newest and the previous checkpoint only, as before', async () => {
    const store = new FileCheckpointStore(dir);
    for (let i = 1; i <= 5; i++) await store.save(input(i));
    expect(readdirSync(dir).sort()).toEqual(['checkpoint.json', 'checkpoint.prev.json']);
    expect(parseCheckpoint(readFileSync(store.path)).sequence).toBe(5);
    expect(parseCheckpoint(readFileSync(store.previousPath)).sequence).toBe(4);
  });

  it('keep K keeps the K newest, each readable under its sequence', async () => {
    const store = new FileCheckpointStore(dir, { keep: 4 });
    for (let i = 1; i <= 7; i++) {
      await store.save(input(i));
      const kept = await store.history();
      expect(kept[0], `save ${i}`).toBe(i); // the one just written is always there
      expect(kept).toEqual(Array.from({ length: Math.min(i, 4) }, (_, k) => i - k));
    }
    for (const seq of await store.history()) {
      const cp = parseCheckpoint(readFileSync(store.historyPath(seq)));
      expect(cp.sequence).toBe(seq);
      expect(cp.offsets['t:0']).toBe(String(seq));
    }
    expect(parseCheckpoint(readFileSync(store.path)).sequence).toBe(7);
    expect(parseCheckpoint(readFileSync(store.previousPath)).sequence).toBe(6);
  });

  it('a damaged newest still falls back to the previous one, and the next save goes on from there', async () => {
    const store = new FileCheckpointStore(dir, { keep: 3 });
    for (let i = 1; i <= 4; i++) await store.save(input(i));
    writeFileSync(store.path, 'garbage\n');
    const fallbacks: number[] = [];
    const reopened = new FileCheckpointStore(dir, { keep: 3, onFallback: (f) => fallbacks.push(f.sequence) });
    const cp = await reopened.load();
    expect(cp?.sequence).toBe(3);
    expect(fallbacks).toEqual([3]);
    const next = await reopened.save(input(9));
    expect(next.sequence).toBe(4);
    expect((await reopened.history())[0]).toBe(4);
    expect(parseCheckpoint(readFileSync(reopened.historyPath(4))).offsets['t:0']).toBe('9');
  });

  it('prunes what is beyond keep (left by a crash before pruning, or a larger keep) on the next save', async () => {
    const before = new FileCheckpointStore(dir, { keep: 6 });
    for (let i = 1; i <= 5; i++) await before.save(input(i));
    expect(await before.history()).toEqual([5, 4, 3, 2, 1]);
    const store = new FileCheckpointStore(dir, { keep: 3 });
    const cp = await store.save(input(6));
    expect(cp.sequence).toBe(6);
    expect(await store.history()).toEqual([6, 5, 4]);
    expect(existsSync(store.historyPath(3))).toBe(false);
  });

  it('refuses keep below 2: the previous checkpoint is what a damaged newest falls back to', () => {
    for (const keep of [0, 1, 2.5, Number.NaN])
      expect(() => new FileCheckpointStore(dir, { keep }), String(keep)).toThrow(CheckpointError);
    expect(() => new FileCheckpointStore(dir, { keep: 1 })).toThrow(/>= 2/);
  });
});
