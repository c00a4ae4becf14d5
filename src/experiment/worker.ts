/**
 * A compare worker thread: loads the source's events once, then runs the cells it is sent, one at a time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runCell, type CellTask, type CompareModelOptions } from './cell.js';
import { inferClasses, inferShape, loadSourceEvents, type EventSource } from './source.js';

const { source, model } = workerData as { source: EventSource; model: CompareModelOptions };
const port = parentPort;
if (port === null) throw new Error('compare worker started outside a worker thread');
let loaded: { events: ReturnType<typeof loadSourceEvents>; shape: number[]; classes: number } | undefined;

port.on('message', (msg: { task: CellTask }) => {
  try {
    if (loaded === undefined) {
      const events = loadSourceEvents(source);
      loaded = { events, shape: inferShape(events), classes: inferClasses(events) };
    }
    port.postMessage({ cell: runCell(loaded.events, loaded.shape, loaded.classes, msg.task, model) });
  } catch (err) {
    port.postMessage({ error: (err as Error).message });
  }
});
