/**
 * The record the Kafka floors publish per event (kafka.bench.ts's publish floor, kafkaForwarder.ts's latency
 * floor): prediction-sized, with the event's id, time, origin and label, and a fixed prediction.
 */
export function floorRecord(
  e: { id: string; ts: number; y?: number },
  topic: string,
  partition: number,
  offset: string,
): { key: string; value: string } {
  return {
    key: e.id,
    value: `{"id":${JSON.stringify(e.id)},"ts":${e.ts},"topic":"${topic}","partition":${partition},"offset":"${offset}","predictions":{"default":{"predicted":1,"proba":[0.25,0.75]}},"y":${e.y}}`,
  };
}
