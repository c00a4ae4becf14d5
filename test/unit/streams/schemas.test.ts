/**
 * The JSON Schemas users read (docs/schemas) against the code that decides: every event the decoder
 * accepts is valid under event.schema.json, and where the schema accepts what the decoder refuses, the
 * reason is one the schema's description lists. Predictions the pipeline publishes and lines a recording
 * holds are valid under their schemas.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { firstValueFrom, from, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../../src/datasets/loadDataset.js';
import { LinearModel } from '../../../src/models/index.js';
import { createEventDecoder, isDeadLetter, type Decoded } from '../../../src/streams/decodeEvents.js';
import { predictionRecords } from '../../../src/streams/livePipeline.js';
import { prequential } from '../../../src/streams/prequential.js';
import { asRecordedMessage } from '../../../src/streams/recordedMessage.js';
import { envelope, eventJson, raw } from './helpers.js';

const schema = (name: string): object =>
  JSON.parse(
    readFileSync(new URL(`../../../docs/schemas/${name}.schema.json`, import.meta.url), 'utf8'),
  ) as object;

const ajv = new Ajv2020({ strict: true, allErrors: true });
const validEvent = ajv.compile(schema('event'));
const validPrediction = ajv.compile(schema('prediction'));
const validRecordingLine = ajv.compile(schema('recording'));

/** What the decoder checks beyond the schema (each named in event.schema.json's description). */
const DECODER_ONLY = /rows differ in length|indices but .* values/;

function decode(value: unknown): Decoded {
  return createEventDecoder({ x: 'infer' }).decode(raw(JSON.stringify(value), 0));
}

const number = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer());
const anyJson = fc.jsonValue({ maxDepth: 2 });
const xArb = fc.oneof(
  fc.array(number, { maxLength: 4 }),
  fc.array(number, { minLength: 1, maxLength: 4 }),
  fc.array(fc.array(number, { minLength: 1, maxLength: 3 }), { maxLength: 3 }),
  fc.record({
    indices: fc.array(fc.integer({ min: -1, max: 9 }), { maxLength: 3 }),
    values: fc.array(number, { maxLength: 3 }),
  }),
  anyJson,
);
/** Mostly well-formed events with every field sometimes wrong or missing. */
const fields = {
  id: fc.oneof(
    { weight: 8, arbitrary: fc.string({ minLength: 1, maxLength: 4 }) },
    { weight: 1, arbitrary: anyJson },
  ),
  ts: fc.oneof({ weight: 8, arbitrary: number }, { weight: 1, arbitrary: anyJson }),
  x: xArb,
  y: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constant(null), anyJson),
  key: fc.oneof(fc.string({ maxLength: 3 }), fc.constant(null), anyJson),
};
const eventLike = fc.oneof(
  { weight: 4, arbitrary: fc.record(fields, { requiredKeys: ['id', 'ts', 'x'] }) },
  { weight: 1, arbitrary: fc.record(fields, { requiredKeys: [] }) },
);

describe('docs/schemas', () => {
  it('compile under strict JSON Schema 2020-12', () => {
    expect(typeof validEvent).toBe('function');
    expect(typeof validPrediction).toBe('function');
    expect(typeof validRecordingLine).toBe('function');
  });

  it('every event of every bundled dataset is valid and decodes', () => {
    for (const name of ['sensor', 'synthetic', 'spam', 'mnist']) {
      const events = loadDataset(name, { limit: 50 });
      expect(events.length, name).toBe(50);
      for (const e of events) {
        const json = JSON.parse(JSON.stringify(e)) as unknown;
        expect(validEvent(json), `${name} ${e.id}: ${ajv.errorsText(validEvent.errors)}`).toBe(true);
        expect(isDeadLetter(decode(json)), `${name} ${e.id}`).toBe(false);
      }
    }
  });

  it('the decoder accepts nothing the schema refuses, and refuses beyond it only for the listed reasons', () => {
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(eventLike, (value) => {
        const d = decode(value);
        const ok = validEvent(value);
        if (!isDeadLetter(d)) {
          accepted++;
          expect(ok, `decoder accepted ${JSON.stringify(value)}: ${ajv.errorsText(validEvent.errors)}`).toBe(
            true,
          );
        } else {
          refused++;
          if (ok) expect(d.detail, JSON.stringify(value)).toMatch(DECODER_ONLY);
        }
      }),
      { numRuns: 2000, seed: 20261205 },
    );
    // Both sides are exercised: not a generator that only makes garbage.
    expect(accepted).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(100);
  });

  it('refuses, like the decoder, the hand-made bad events', () => {
    const bad: unknown[] = [
      { ts: 1, x: [1] },
      { id: '', ts: 1, x: [1] },
      { id: 'a', x: [1] },
      { id: 'a', ts: '1', x: [1] },
      { id: 'a', ts: 1, x: [] },
      { id: 'a', ts: 1, x: ['1'] },
      { id: 'a', ts: 1, x: { indices: [-1], values: [1] } },
      { id: 'a', ts: 1, x: [1], y: 'spam' },
      { id: 'a', ts: 1, x: [1], key: 3 },
      [1, 2],
    ];
    for (const v of bad) {
      expect(validEvent(v), JSON.stringify(v)).toBe(false);
      expect(isDeadLetter(decode(v)), JSON.stringify(v)).toBe(true);
    }
  });

  it('every prediction the pipeline publishes is valid under prediction.schema.json', async () => {
    const models = {
      logistic: new LinearModel({ loss: 'logistic', optimizer: { type: 'sgd', lr: 0.1 } }),
      squared: new LinearModel({ loss: 'squared', optimizer: { type: 'sgd', lr: 0.01 } }),
    };
    const batches = [0, 1, 2].map((k) =>
      [0, 1, 2, 3].map((i) => envelope(eventJson(k * 4 + i, 3, i !== 3), k * 4 + i)),
    );
    const results = await firstValueFrom(from(batches).pipe(prequential(models), toArray()));
    let checked = 0;
    for (const r of results) {
      for (const m of predictionRecords(r)) {
        const value = JSON.parse(m.value.toString()) as { id: string; predictions: Record<string, unknown> };
        expect(validPrediction(value), ajv.errorsText(validPrediction.errors)).toBe(true);
        expect(m.key).toBe(value.id);
        expect(Object.keys(value.predictions).sort()).toEqual(['logistic', 'squared']);
        checked++;
      }
    }
    expect(checked).toBe(12);
    expect(validPrediction({ id: 'a', ts: 0, topic: 't', partition: 0, offset: '1', predictions: {} })).toBe(
      false,
    );
  });

  it('recording.schema.json takes exactly the JSON lines of the committed recordings that the reader takes', () => {
    for (const file of ['clean', 'poisoned']) {
      const text = readFileSync(
        new URL(`../../fixtures/streams/recordings/${file}.jsonl`, import.meta.url),
        'utf8',
      );
      const lines = text.split('\n').filter((l) => l.trim() !== '');
      const json = lines.flatMap((l) => {
        try {
          return [JSON.parse(l) as unknown];
        } catch {
          return []; // poisoned.jsonl holds broken lines on purpose: the replay dead-letters them
        }
      });
      expect(json.length, file).toBeGreaterThan(10);
      if (file === 'clean') expect(json.length).toBe(lines.length);
      let valid = 0;
      for (const line of json) {
        // The schema says what the reader takes: the same verdict as asRecordedMessage.
        const readable = asRecordedMessage(line) !== null;
        expect(validRecordingLine(line), `${file}: ${JSON.stringify(line).slice(0, 80)}`).toBe(readable);
        if (readable) valid++;
      }
      expect(valid, file).toBeGreaterThan(10);
      if (file === 'clean') expect(valid).toBe(lines.length);
    }
  });
});
