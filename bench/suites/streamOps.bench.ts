/**
 * The offline stream operators, no broker: what decoding, prequential learning, a whole replay and a
 * checkpoint cost, beside the floor they sit on (bare JSON.parse of the same messages) measured in this run.
 * - decode: `createEventDecoder` on Kafka-like Buffer values (dense x, d = 8, binary label); ratio
 *   `decode_vs_parse` = JSON.parse time / decode time (1 = decoding costs nothing beyond parsing);
 * - flat JSON: `parseFlatJson` (the decoder's fast path, src/streams/flatJson.ts) on the same bytes; ratio
 *   `parse_over_flat_json` = JSON.parse-of-the-text time / parseFlatJson time;
 * - probability text: `writeShortestUnit` (src/streams/shortestDigits.ts, how a published prediction's
 *   probabilities are written) against `String` on the same sigmoid outputs; ratio `string_over_shortest`;
 * - prequential: LinearModel logistic (SGD), batches of 32 already decoded events, predictions kept;
 * - replay: fromRecording → decodeEvents → rebatch(count 32) → prequential on a 100k-line recording file;
 * - checkpoint: FileCheckpointStore.save (write temp, fsync, rename, fsync dir) of a d = 1000 LinearModel
 *   state and of a ~1 MB state.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { from } from 'rxjs';
import { Rng } from '../../src/core/rng.js';
import { LinearModel } from '../../src/models/linear/index.js';
import { FileCheckpointStore } from '../../src/streams/checkpointStore.js';
import { createEventDecoder } from '../../src/streams/decodeEvents.js';
import { parseFlatJson } from '../../src/streams/flatJson.js';
import { writeShortestUnit } from '../../src/streams/shortestDigits.js';
import type { Envelope, RawMessage } from '../../src/streams/event.js';
import { prequential } from '../../src/streams/prequential.js';
import { replayIntoModels } from '../../src/streams/replay.js';
import { type Case, type SuiteResult, header, measure } from '../lib.js';

const D = 8;
const POOL = 10_000;

function events(n: number, seed: number) {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const x = Array.from({ length: D }, () => Math.round(rng.normal() * 1e6) / 1e6);
    return { id: `ev-${i}`, ts: 1_700_000_000_000 + i, x, y: x[0] + x[1] > 0 ? 1 : 0 };
  });
}

export async function run(): Promise<SuiteResult> {
  const evs = events(POOL, 1);
  const msgs: RawMessage[] = evs.map((e, i) => ({
    origin: { topic: 'bench', partition: 0, offset: String(i), timestamp: e.ts },
    key: null,
    value: Buffer.from(JSON.stringify(e)),
    receivedAt: 0,
  }));
  const decoder = createEventDecoder({ x: { kind: 'vector', dim: D }, label: { classes: 2 } });
  const envelopes = msgs.map((m) => decoder.decode(m) as Envelope);
  const batches: Envelope[][] = [];
  for (let i = 0; i < POOL; i += 32) batches.push(envelopes.slice(i, i + 32));
  // Sigmoid outputs of a confident model: both of each event's probabilities, in (0, 1). More distinct values
  // than V8's number-to-string cache holds, so String pays as it does for new predictions.
  const rng = new Rng(3);
  const PROBABILITIES = 200_000;
  const probabilities = Array.from({ length: PROBABILITIES }, (_, i) => {
    const p = 1 / (1 + Math.exp(-rng.normal() * 4));
    return i % 2 === 0 ? p : 1 - p;
  });
  const digits = Buffer.alloc(32);
  let sink = 0;

  const micro = await measure(
    {
      parse: () => {
        for (const m of msgs) JSON.parse((m.value as Buffer).toString('utf8'));
      },
      flatJson: () => {
        for (const m of msgs) parseFlatJson(m.value as Buffer);
      },
      string: () => {
        for (const p of probabilities) sink += String(p).length;
      },
      shortest: () => {
        for (const p of probabilities) {
          const end = writeShortestUnit(p, digits, 0);
          sink += end >= 0 ? end : String(p).length; // below 1e-5: String, as predictionRecords does
        }
      },
      decode: () => {
        for (const m of msgs) decoder.decode(m);
      },
      prequential: () => {
        const model = new LinearModel({ loss: 'logistic', optimizer: { type: 'sgd', lr: 0.05 } });
        from(batches).pipe(prequential(model)).subscribe();
      },
    },
    { time: 2000, warmupTime: 300 },
  );

  const dir = mkdtempSync(join(tmpdir(), 'sn-bench-'));
  try {
    const recording = join(dir, 'rec.jsonl');
    const N = 100_000;
    writeFileSync(
      recording,
      events(N, 2)
        .map((e, i) =>
          JSON.stringify({
            topic: 'bench',
            partition: 0,
            offset: String(i),
            timestamp: e.ts,
            key: null,
            value: e,
          }),
        )
        .join('\n') + '\n',
    );
    let replaySeconds = Infinity;
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      await replayIntoModels({
        recording,
        models: { m: new LinearModel({ loss: 'logistic', optimizer: { type: 'sgd', lr: 0.05 } }) },
        schema: { x: { kind: 'vector', dim: D }, label: { classes: 2 } },
        policy: { count: 32 },
      });
      replaySeconds = Math.min(replaySeconds, (performance.now() - t0) / 1000);
    }

    const store = new FileCheckpointStore(join(dir, 'ckpt'));
    const small = new LinearModel({ loss: 'logistic', dim: 1000 });
    small.learnOne(
      Array.from({ length: 1000 }, (_, i) => Math.sin(i)),
      1,
    );
    const big = { kind: 'blob', w: Array.from({ length: 60_000 }, (_, i) => Math.sin(i)) };
    const ckpt = await measure(
      {
        small: async () => {
          await store.save({ models: { m: small.state() }, offsets: { 'bench:0': '123456' } });
        },
        big: async () => {
          await store.save({ models: { m: big }, offsets: { 'bench:0': '123456' } });
        },
      },
      { time: 1500, warmupTime: 100 },
    );
    const bigBytes = Buffer.byteLength(JSON.stringify(big));

    const perEvent = (ns: number) => ns / POOL;
    const cases: Case[] = [
      {
        name: 'JSON.parse of the message bytes',
        medianNs: micro.parse,
        units: POOL,
        perUnitNs: perEvent(micro.parse),
        eventsPerSecond: 1e9 / perEvent(micro.parse),
      },
      {
        name: 'parseFlatJson of the message bytes (the decoder fast path)',
        medianNs: micro.flatJson,
        units: POOL,
        perUnitNs: perEvent(micro.flatJson),
        eventsPerSecond: 1e9 / perEvent(micro.flatJson),
      },
      {
        name: 'String of a probability',
        medianNs: micro.string,
        units: PROBABILITIES,
        perUnitNs: micro.string / PROBABILITIES,
      },
      {
        name: 'writeShortestUnit of a probability (String below 1e-5)',
        medianNs: micro.shortest,
        units: PROBABILITIES,
        perUnitNs: micro.shortest / PROBABILITIES,
      },
      {
        name: 'decode (validate + envelope), d=8',
        medianNs: micro.decode,
        units: POOL,
        perUnitNs: perEvent(micro.decode),
        eventsPerSecond: 1e9 / perEvent(micro.decode),
      },
      {
        name: 'prequential LinearModel logistic, batches of 32',
        medianNs: micro.prequential,
        units: POOL,
        perUnitNs: perEvent(micro.prequential),
        eventsPerSecond: 1e9 / perEvent(micro.prequential),
      },
      {
        name: 'replay file -> decode -> rebatch 32 -> prequential (100k lines)',
        medianNs: replaySeconds * 1e9,
        units: N,
        perUnitNs: (replaySeconds * 1e9) / N,
        eventsPerSecond: N / replaySeconds,
      },
      { name: 'checkpoint save, LinearModel d=1000 (fsync)', medianNs: ckpt.small, units: 1 },
      {
        name: `checkpoint save, ${(bigBytes / 1e6).toFixed(1)} MB state (fsync)`,
        medianNs: ckpt.big,
        units: 1,
        bytes: bigBytes,
      },
    ];
    return {
      ...header('streamOps'),
      cases,
      ratios: {
        decode_vs_parse: micro.parse / micro.decode,
        parse_over_flat_json: micro.parse / micro.flatJson,
        string_over_shortest: micro.string / micro.shortest,
      },
      notes: [
        'best of 3 replays; the machine may be shared, so absolute numbers move between runs',
        `probabilities: ${probabilities.filter((p) => p < 1e-5).length} of ${PROBABILITIES} are below 1e-5 and go through String in both cases (checksum ${sink > 0})`,
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
