/**
 * Child process for the kill -9 checkpoint test: saves checkpoints in a loop to the directory given as argv[2]
 * (offset i, a model whose weights all equal i) and prints each sequence number once its save resolved.
 */
import { FileCheckpointStore } from '../../../src/streams/checkpointStore.js';

const store = new FileCheckpointStore(process.argv[2]);
for (let i = 1; ; i++) {
  await store.save({
    models: { m: { kind: 'crash-test', w: new Array(20_000).fill(i) } },
    offsets: { 't:0': String(i) },
  });
  process.stdout.write(`${i}\n`);
}
