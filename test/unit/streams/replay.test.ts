import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { takeWhile, tap } from 'rxjs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../../src/errors.js';
import {
  LinearModel,
  type LinearModelOptions,
  type LinearModelState,
} from '../../../src/models/linear/index.js';
import { checkpoint } from '../../../src/streams/checkpoint.js';
import { FileCheckpointStore } from '../../../src/streams/checkpointStore.js';
import { MemoryDeadLetterSink } from '../../../src/streams/deadLetters.js';
import { decodeEvents, type EventSchema } from '../../../src/streams/decodeEvents.js';
import { fromRecording } from '../../../src/streams/fromRecording.js';
import { prequential } from '../../../src/streams/prequential.js';
import { rebatch } from '../../../src/streams/rebatch.js';
import { replayIntoModels, type ReplayOptions } from '../../../src/streams/replay.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/streams/recordings');
const clean = join(fixtures, 'clean.jsonl');
const poisoned = join(fixtures, 'poisoned.jsonl');
const schema: EventSchema = { x: { kind: 'vector', dim: 4 }, label: { classes: 2 }, maxBytes: 4096 };

const l1: LinearModelOptions = {
  loss: 'logistic',
  regularizer: { l1: 1e-3 },
  optimizer: { type: 'sgd', lr: 0.2 },
};
const adam: LinearModelOptions = {
  loss: 'logistic',
  regularizer: { l2: 1e-2 },
  optimizer: { type: 'adam', lr: 0.05, beta1: 0.9, beta2: 0.999 },
};
const fresh = () => ({ lasso: new LinearModel(l1), ridgeAdam: new LinearModel(adam) });
const replay = (recording: string, extra: Partial<ReplayOptions> = {}) =>
  replayIntoModels({ recording, models: fresh(), schema, policy: { count: 8 }, ...extra });

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sn-replay-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('replayIntoModels', () => {
  it('two replays give bit-for-bit identical model states and scores', async () => {
    for (const policy of [{ count: 8 }, { poisson: 6, seed: 11 }, 'arrival'] as const) {
      const a = await replay(clean, { policy });
      const b = await replay(clean, { policy });
      expect(JSON.stringify(b.states)).toBe(JSON.stringify(a.states));
      expect(JSON.stringify(b.summaries)).toBe(JSON.stringify(a.summaries));
      expect(a.events).toBe(240);
      expect(a.summaries.lasso.labeled).toBe(240);
      // It learned something: better than chance on this separable-with-noise stream.
      expect(a.summaries.lasso.error).toBeLessThan(0.3);
    }
  });

  it('a recording with poison lines ends with the same models as one without', async () => {
    for (const policy of [{ count: 8 }, { poisson: 5, seed: 2 }, 'arrival'] as const) {
      const sink = new MemoryDeadLetterSink();
      const a = await replay(clean, { policy });
      const b = await replay(poisoned, { policy, deadLetters: sink });
      expect(JSON.stringify(b.states)).toBe(JSON.stringify(a.states));
      expect(b.summaries.lasso.loss).toBe(a.summaries.lasso.loss);
      expect(b.events).toBe(240);
      expect(b.messages).toBe(257);
      expect(b.deadLetters).toEqual({
        bad_json: 8,
        bad_label: 1,
        bad_shape: 2,
        binary: 1,
        missing_field: 2,
        non_finite: 1,
        not_object: 1,
        oversized: 1,
      });
      expect(sink.letters).toHaveLength(17);
      expect(b.offsets['sensors:0']).toBe('253'); // every recorded offset, the trailing poison included
    }
  });

  it('refuses time-based batching', async () => {
    await expect(
      replayIntoModels({ recording: clean, models: fresh(), policy: { timeMs: 5 } as never }),
    ).rejects.toBeInstanceOf(ConfigError);
  });

  it.each([
    ['graceful stop', { count: 8 }],
    ['crash', { count: 8 }],
    ['graceful stop', { poisson: 6, seed: 5 }],
    ['crash', { poisson: 6, seed: 5 }],
  ] as const)(
    'a run cut short (%s, %o) and resumed from its checkpoint ends exactly like an uninterrupted run',
    async (how, policy) => {
      const full = await replay(poisoned, { policy });
      const store = new FileCheckpointStore(dir);
      // First run, cut after 13 batches with checkpoints every 16 messages before that. A graceful stop completes
      // the stream (the operator writes a final checkpoint); a crash errors it (no final checkpoint: the last
      // periodic one is behind what the models learned, and that learning is lost with the process).
      {
        let batches = 0;
        const done = new Promise<void>((resolve) => {
          fromRecording(poisoned)
            .pipe(
              decodeEvents(schema),
              rebatch(policy),
              prequential(fresh()),
              tap(() => {
                if (++batches > 13 && how === 'crash') throw new Error('crash');
              }),
              how === 'crash' ? (s) => s : takeWhile(() => batches < 13, true),
              checkpoint(store, { everyEvents: 16, everyMs: Infinity }),
            )
            .subscribe({ complete: resolve, error: () => resolve() });
        });
        await done;
        await store.whenIdle();
      }
      const cp = (await store.load())!;
      // A crash loses what was not yet durable (queued snapshots die with the process).
      if (how === 'crash') expect(cp.batches).toBeGreaterThanOrEqual(1);
      expect(cp.batches).toBeLessThanOrEqual(13);
      if (how === 'graceful stop') expect(cp.batches).toBe(13);
      // Second run: rebuild from the checkpoint and read on from its offsets.
      const models = Object.fromEntries(
        Object.entries(cp.models).map(([k, s]) => [k, LinearModel.fromState(s as LinearModelState)]),
      );
      let lastRunning: { events: number }[] = [];
      await new Promise<void>((resolve, reject) => {
        fromRecording(poisoned, { startOffsets: cp.offsets })
          .pipe(
            decodeEvents(schema),
            rebatch(policy, { skipBatches: cp.batches }),
            prequential(models, { resume: { scores: cp.scores, batches: cp.batches } }),
            tap((r) => (lastRunning = r.variants.map((v) => v.running))),
            checkpoint(store, { everyEvents: 16, everyMs: Infinity, resume: cp }),
          )
          .subscribe({ complete: resolve, error: reject });
      });
      const resumed = Object.fromEntries(Object.entries(models).map(([k, m]) => [k, m.state()]));
      expect(JSON.stringify(resumed)).toBe(JSON.stringify(full.states));
      const final = (await store.load())!;
      expect(final.messages).toBe(257);
      expect(final.batches).toBe(full.batches);
      expect(final.offsets).toEqual(full.offsets);
      expect(lastRunning.map((r) => r.events)).toEqual([240, 240]);
      expect(final.scores.lasso.lossSum).toBe(full.summaries.lasso.lossSum);
    },
  );
});
