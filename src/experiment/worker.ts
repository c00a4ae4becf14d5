/**
 * A compare worker thread: keeps the current data draw, then runs the cells it is sent, one at a time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runCell, type CellTask, type CompareModelOptions } from './cell.js';
import { DrawCache } from './draw.js';
import type { EventSource } from './source.js';

const { source, model, shape, classes, warmup, episodes } = workerData as {
  source: EventSource;
  model: CompareModelOptions;
  shape: number[];
  classes: number;
  warmup: number;
  episodes: boolean;
};
const port = parentPort;
if (port === null) throw new Error('compare worker started outside a worker thread');
const cache = new DrawCache(source);

port.on('message', (msg: { task: CellTask }) => {
  try {
    const t = msg.task;
    port.postMessage({
      cell: runCell(
        cache.arranged(t.arrival ?? 'recorded', t.seed),
        shape,
        classes,
        t,
        model,
        warmup,
        episodes ? cache.episodes(t.seed) : undefined,
      ),
    });
  } catch (err) {
    port.postMessage({ error: (err as Error).message });
  }
});
