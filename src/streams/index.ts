/**
 * streamnorm/streams: RxJS sources, operators and sinks (Kafka via kafkajs, recordings, batching, the
 * prequential loop, checkpoints, dead letters, instrumentation).
 */
export * from './event.js';
export * from './decodeEvents.js';
export { rebatch, type RebatchPolicy, type RebatchOptions } from './rebatch.js';
export * from './prequential.js';
export * from './checkpointStore.js';
export * from './checkpoint.js';
export * from './deadLetters.js';
export * from './fanOut.js';
export * from './fromRecording.js';
export * from './toRecording.js';
export * from './replay.js';
export { fromKafka, KafkaSource, type FromKafkaOptions, type KafkaSourceStats } from './fromKafka.js';
export * from './toKafka.js';
export * from './deadLetterTopic.js';
export * from './livePipeline.js';
export {
  instrument,
  createInstrumenter,
  liveMetricsHooks,
  pipelineMetricsFor,
  type InstrumentOptions,
  type Instrumenter,
  type LiveMetricsHooks,
} from './instrument.js';
export { createKafka, type ClientOptions } from './kafka/client.js';
