/**
 * Checkpoints that refuse what does not fit (issue 10): every refusal has a test here, each ending in one
 * CheckpointRefusedError line that says what differs and what to do; plus the store's file hygiene (0600,
 * sanitized default directory, stale temporaries removed on load, the last two kept, fallback to the previous
 * checkpoint when the newest is damaged).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointError, CheckpointRefusedError } from '../../../src/errors.js';
import { LinearModel } from '../../../src/models/linear/index.js';
import {
  FileCheckpointStore,
  checkCheckpointFits,
  defaultCheckpointDir,
  safePathSegment,
  type Checkpoint,
  type CheckpointFallback,
  type CheckpointInput,
} from '../../../src/streams/checkpointStore.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sn-refuse-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const model = (): LinearModel =>
  new LinearModel({ loss: 'logistic', optimizer: { type: 'sgd', lr: 0.1 }, dim: 3 });

const input = (n: number): CheckpointInput => {
  const m = model();
  m.learnOne([1, n, -1], 1);
  return {
    models: { default: m.state() },
    offsets: { 'A:0': String(10 * n), 'A:1': String(n) },
    topic: 'A',
    schema: { x: { kind: 'vector', dim: 3 }, classes: 2, label: 'class' },
    variants: { default: { name: 'default', model: 'linear', options: { loss: 'logistic' } } },
  };
};

/** Rewrites the checkpoint's payload with `edit` and a valid header (checksum and length), as a tamperer would. */
async function rewrite(path: string, edit: (payload: string) => string): Promise<void> {
  const text = await readFile(path, 'utf8');
  const nl = text.indexOf('\n');
  const header = JSON.parse(text.slice(0, nl)) as Record<string, unknown>;
  const body = Buffer.from(edit(text.slice(nl + 1, text.length - 1)));
  header.sha256 = createHash('sha256').update(body).digest('hex');
  header.bytes = body.length;
  await writeFile(path, Buffer.concat([Buffer.from(JSON.stringify(header) + '\n'), body, Buffer.from('\n')]));
}

async function refusal(p: Promise<unknown>): Promise<CheckpointRefusedError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CheckpointRefusedError);
  const msg = (err as Error).message;
  expect(msg.split('\n')).toHaveLength(1);
  return err as CheckpointRefusedError;
}

describe('checkpoint contents: what is recorded', () => {
  it('records format version, topic, partitions, each variant kind, options and spec, and the schema', async () => {
    const cp = await new FileCheckpointStore(dir).save(input(1));
    const loaded = (await new FileCheckpointStore(dir).load())!;
    expect(loaded).toEqual(cp);
    expect(loaded.version).toBe(2);
    expect(loaded.topic).toBe('A');
    expect(loaded.partitions).toEqual([0, 1]);
    expect(loaded.variants.default.kind).toBe('LinearModel');
    expect(loaded.variants.default.options).toMatchObject({ loss: 'logistic', dim: 3 });
    expect(loaded.variants.default.spec).toEqual(input(1).variants!.default);
    expect(loaded.schema).toEqual(input(1).schema);
  });
});

describe('checkCheckpointFits refuses a checkpoint of another stream or model', () => {
  let cp: Checkpoint;
  beforeEach(async () => {
    cp = await new FileCheckpointStore(dir).save(input(1));
  });
  const fits = (e: Parameters<typeof checkCheckpointFits>[1]): Promise<void> =>
    Promise.resolve().then(() => checkCheckpointFits(cp, e, 'ck.json'));

  it('accepts the run it was written for', async () => {
    await expect(
      fits({
        topic: 'A',
        endOffsets: new Map([
          [0, '10'],
          [1, '1'],
        ]),
        variantNames: ['default'],
        variants: { default: { options: { loss: 'logistic' }, model: 'linear', name: 'default' } },
        schema: { classes: 2 },
      }),
    ).resolves.toBeUndefined();
  });

  it('another topic', async () => {
    const e = await refusal(fits({ topic: 'B' }));
    expect(e.message).toMatch(/written for topic "A", this run reads "B"/);
    expect(e.message).toMatch(/checkpoint-dir/);
  });

  it('a partition the topic no longer has', async () => {
    const e = await refusal(fits({ topic: 'A', endOffsets: new Map([[0, '10']]) }));
    expect(e.message).toMatch(/partition 1 .* recreated/);
  });

  it('an offset past the end of its partition (topic recreated)', async () => {
    const e = await refusal(
      fits({
        topic: 'A',
        endOffsets: new Map([
          [0, '3'],
          [1, '1'],
        ]),
      }),
    );
    expect(e.message).toMatch(/offset 10, past its end 3/);
  });

  it('other variant names', async () => {
    const e = await refusal(fits({ topic: 'A', variantNames: ['bn', 'ln'] }));
    expect(e.message).toMatch(/holds variants \[default\], this run builds \[bn,ln\]/);
  });

  it('a variant built from other options', async () => {
    const e = await refusal(
      fits({
        topic: 'A',
        variants: { default: { name: 'default', model: 'linear', options: { loss: 'hinge' } } },
      }),
    );
    expect(e.message).toMatch(/variant "default" was .*logistic.*, this run asks for .*hinge/);
  });

  it('another schema (classes)', async () => {
    const e = await refusal(fits({ topic: 'A', schema: { classes: 3 } }));
    expect(e.message).toMatch(/stream's classes was 2, this run says 3/);
  });
});

describe('loading refuses what a valid checksum can still hold', () => {
  beforeEach(async () => {
    await new FileCheckpointStore(dir).save(input(1));
  });
  const path = (): string => join(dir, 'checkpoint.json');
  const paramsOf = (payload: string, replacement: string): string =>
    payload.replace(/"params":\[[^\]]*\]/, `"params":${replacement}`);

  it('another format version', async () => {
    const text = await readFile(path(), 'utf8');
    await writeFile(path(), text.replace('"version":2', '"version":1'));
    const e = await refusal(new FileCheckpointStore(dir).load());
    expect(e.message).toMatch(/format version 1, this streamnorm reads version 2/);
  });

  it.each([
    ['NaN (saved as null)', '[0.5,null,0.1,0.2]', /null among numbers/],
    ['Infinity', '[0.5,1e999,0.1,0.2]', /Infinity/],
    ['1e300', '[0.5,1e300,0.1,0.2]', /1e\+300 .*finite and within/],
  ])('%s weights', async (_name, params, why) => {
    await rewrite(path(), (p) => paramsOf(p, params));
    const e = await refusal(new FileCheckpointStore(dir).load());
    expect(e.message).toMatch(why);
  });

  it('options.dim 1e9, before anything is allocated', async () => {
    await rewrite(path(), (p) => p.replaceAll('"dim":3}', '"dim":1000000000}'));
    const t0 = performance.now();
    const e = await refusal(new FileCheckpointStore(dir).load());
    expect(performance.now() - t0).toBeLessThan(500);
    expect(e.message).toMatch(/dim = 1000000000 does not fit/);
    // The top-level dim of the state too.
    await new FileCheckpointStore(join(dir, 'b')).save(input(1));
    await rewrite(join(dir, 'b', 'checkpoint.json'), (p) => p.replace(/"dim":3,"t"/, '"dim":1000000000,"t"'));
    await refusal(new FileCheckpointStore(join(dir, 'b')).load());
  });

  it('a refused newest checkpoint falls back to the previous one when there is one', async () => {
    const store = new FileCheckpointStore(dir);
    await store.save(input(2));
    await rewrite(path(), (p) => paramsOf(p, '[0.5,1e300,0.1,0.2]'));
    const seen: CheckpointFallback[] = [];
    const cp = await new FileCheckpointStore(dir, { onFallback: (f) => seen.push(f) }).load();
    expect(cp!.sequence).toBe(1);
    expect(seen).toHaveLength(1);
    expect(seen[0].reason).toMatch(/1e\+300/);
  });
});

describe('FileCheckpointStore files', () => {
  it('writes files 0600 (and its directory 0700)', async () => {
    const d = join(dir, 'new');
    await new FileCheckpointStore(d).save(input(1));
    await new FileCheckpointStore(d).save(input(2));
    expect((await stat(join(d, 'checkpoint.json'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(d, 'checkpoint.prev.json'))).mode & 0o777).toBe(0o600);
    expect((await stat(d)).mode & 0o777).toBe(0o700);
  });

  it('removes stale temporaries on every load', async () => {
    const store = new FileCheckpointStore(dir);
    await store.save(input(1));
    await writeFile(join(dir, 'checkpoint.json.999.1.tmp'), 'partial');
    await writeFile(join(dir, 'checkpoint.json.999.2.tmp'), 'partial');
    await store.load();
    expect((await readdir(dir)).sort()).toEqual(['checkpoint.json']);
    await writeFile(join(dir, 'checkpoint.json.999.3.tmp'), 'partial');
    await new FileCheckpointStore(dir).load();
    expect((await readdir(dir)).sort()).toEqual(['checkpoint.json']);
  });

  it('keeps the last two and falls back to the previous one when the newest is damaged (log + callback)', async () => {
    const store = new FileCheckpointStore(dir);
    for (let n = 1; n <= 3; n++) await store.save(input(n));
    const text = await readFile(join(dir, 'checkpoint.json'), 'utf8');
    await writeFile(join(dir, 'checkpoint.json'), text.slice(0, text.length - 40));
    const seen: CheckpointFallback[] = [];
    const again = new FileCheckpointStore(dir, { onFallback: (f) => seen.push(f) });
    const cp = (await again.load())!;
    expect(cp.sequence).toBe(2);
    expect(cp.offsets['A:0']).toBe('20');
    expect(seen).toEqual([
      expect.objectContaining({ sequence: 2, reason: expect.stringMatching(/damaged/) as unknown }),
    ]);
    // The damaged file is kept aside for a person, never rotated into the previous slot.
    const names = await readdir(dir);
    expect(names.filter((n) => n.startsWith('checkpoint.json.corrupt-'))).toHaveLength(1);
    const next = await again.save(input(4));
    expect(next.sequence).toBe(3);
    expect((await new FileCheckpointStore(dir).load())!.sequence).toBe(3);
    const prev = await readFile(join(dir, 'checkpoint.prev.json'), 'utf8');
    expect(prev).toContain('"sequence":2');
  });

  it('a missing newest with a previous one (a crash between the two renames) loads the previous', async () => {
    const store = new FileCheckpointStore(dir);
    await store.save(input(1));
    await store.save(input(2));
    await rm(join(dir, 'checkpoint.json'));
    const seen: CheckpointFallback[] = [];
    const cp = await new FileCheckpointStore(dir, { onFallback: (f) => seen.push(f) }).load();
    expect(cp!.sequence).toBe(1);
    expect(seen[0].movedTo).toBeNull();
  });

  it('both damaged: a CheckpointError, not a fresh start', async () => {
    const store = new FileCheckpointStore(dir);
    await store.save(input(1));
    await store.save(input(2));
    await writeFile(join(dir, 'checkpoint.json'), 'x');
    await writeFile(join(dir, 'checkpoint.prev.json'), 'y');
    await expect(new FileCheckpointStore(dir).load()).rejects.toBeInstanceOf(CheckpointError);
  });
});

describe('default checkpoint directory', () => {
  it('includes the topic, and group and topic become safe path segments', () => {
    expect(defaultCheckpointDir('checkpoints', 'g1', 'events')).toBe(join('checkpoints', 'g1', 'events'));
    const d = defaultCheckpointDir('/srv/ck', '../../etc', 'a/../../b');
    expect(resolve(d).startsWith('/srv/ck/')).toBe(true);
    expect(d).toBe('/srv/ck/%2E%2E%2F%2E%2E%2Fetc/a%2F%2E%2E%2F%2E%2E%2Fb');
    expect(safePathSegment('..')).toBe('%2E%2E');
    expect(safePathSegment('a_b')).not.toBe(safePathSegment('a/b'));
    expect(() => safePathSegment('')).toThrow(CheckpointError);
  });
});
