export * from './types.js';
export { runCompare, defaultNormalizers, defaultBatchSizes, type CompareOptions } from './compare.js';
export {
  parseBatchSizes,
  defaultCompareModel,
  type BatchSizeSpec,
  type CompareModelOptions,
} from './cell.js';
export { writeResults, toCsv, toJson, toMarkdown, formatTable } from './results.js';
export { renderChart, type ChartOptions } from './chart.js';
