/**
 * Writes the bundled recording(s) under data/: each dataset event becomes the Kafka message a producer
 * would send (value = the event's JSON), recorded with the same code `streamnorm record` uses
 * (toRecordedMessage), one JSON line per message, offsets 0, 1, 2, ... on partition 0.
 *
 *   npx tsx scripts/make-recordings.ts            # data/sensor.jsonl
 *
 * The sensor recording is the `sensor` dataset's windows [2 x 16] at stride 2 in physical units (`scale: 'raw'`:
 * humidity in %, temperature in °C), as a topic fed by the motes would carry them; `compare --dataset sensor`
 * sees the same events standardized with its calibration prefix (src/datasets/sensor.ts), so
 * `compare --recording data/sensor.jsonl` is the raw-input setting of the same stream.
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDataset, type DatasetOptions } from '../src/datasets/loadDataset.js';
import { toRecordedMessage } from '../src/streams/recordedMessage.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function writeRecording(name: string, topic: string, opts: DatasetOptions = {}): void {
  const events = loadDataset(name, opts);
  const lines = events.map((event, i) =>
    JSON.stringify(
      toRecordedMessage({
        origin: { topic, partition: 0, offset: String(i), timestamp: event.ts },
        key: event.key ?? null,
        value: JSON.stringify(event),
        receivedAt: 0,
      }),
    ),
  );
  const path = join(root, 'data', `${name}.jsonl`);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, lines.join('\n') + '\n');
  console.log(`${path}: ${events.length} messages, ${(statSync(path).size / 1e6).toFixed(2)} MB`);
}

writeRecording('sensor', 'sensor', { sensor: { scale: 'raw' } });
