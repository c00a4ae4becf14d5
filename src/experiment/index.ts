export * from './types.js';
export {
  runCompare,
  defaultNormalizers,
  defaultBatchSizes,
  defaultLrGrid,
  parseStepEvents,
  type CompareOptions,
} from './compare.js';
export {
  parseBatchSizes,
  defaultCompareModel,
  type BatchSizeSpec,
  type CompareModelOptions,
  type StepEvents,
} from './cell.js';
export {
  arrange,
  parseArrival,
  parseArrivalList,
  formatArrival,
  arrivalSpecs,
  type ArrivalOrder,
} from './arrival.js';
export { writeResults, toCsv, toJson, toMarkdown, formatTable, reading } from './results.js';
export { renderChart, type ChartOptions } from './chart.js';
export { runLiveComparison, type LiveComparisonOptions } from './liveComparison.js';
