/**
 * The last step of `npm run results`: reads docs/results/<run>/results.json for the runs that exist and
 * writes docs/results/README.md, the README's results section (between its results markers) and the charts.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderChart } from '../src/experiment/chart.js';
import {
  replaceMarked,
  resultsSection,
  type DistributedResult,
  type ReportRun,
} from '../src/experiment/report.js';
import type { CompareResult } from '../src/experiment/types.js';

const root = join(import.meta.dirname, '..');
const dir = join(root, 'docs', 'results');
const known: [string, string][] = [
  [
    'synthetic',
    'seeded windows [3 × 32], class = sine frequency under per-sample gain, offset and drift (WindowNet with its family defaults: kernel 7, 16 channels)',
  ],
  ['mnist', 'handwritten digits as 784-dim vectors (Mlp, one hidden layer of 64)'],
  [
    'sensor',
    'real sensor-network windows [2 × 16] (humidity, temperature per mote, standardized with a 1,000-window calibration prefix), 75 anomalous windows in 2 episodes; scored per event and per episode (WindowNet, family defaults)',
  ],
  [
    'gnws',
    'GroupNorm with and without Weight Standardization of the conv before it, against BN at small batches (WindowNet, synthetic windows)',
  ],
  [
    'rnn',
    'MNIST digits read row by row: 28 steps of 28 pixels through an Elman cell of 64 units read out by the mean of its states, BN per time step against LayerNorm',
  ],
];
/** Runs that only feed the drawbacks table (the singleton policies at batch size 1). */
const extra = ['mnist-singleton-skip', 'mnist-singleton-error'];
const runs: ReportRun[] = known
  .filter(([name]) => existsSync(join(dir, name, 'results.json')))
  .map(([name, description]) => ({
    name,
    description,
    result: JSON.parse(readFileSync(join(dir, name, 'results.json'), 'utf8')) as CompareResult,
  }));
const load = (name: string): CompareResult =>
  JSON.parse(readFileSync(join(dir, name, 'results.json'), 'utf8')) as CompareResult;
const extras: ReportRun[] = extra
  .filter((name) => existsSync(join(dir, name, 'results.json')))
  .map((name) => ({ name, description: '', result: load(name) }));
/** The distributed row (`npm run results:distributed`), when it was run. */
const distributedJson = join(dir, 'distributed', 'results.json');
const distributed = existsSync(distributedJson)
  ? (JSON.parse(readFileSync(distributedJson, 'utf8')) as DistributedResult)
  : undefined;
if (runs.length === 0) throw new Error(`no results.json under ${dir}: run the comparisons first`);
// The charts again from the JSON, so they follow the current renderer without re-running the comparisons.
for (const run of runs) {
  writeFileSync(join(dir, run.name, 'chart.svg'), renderChart(run.result));
  writeFileSync(join(dir, run.name, 'chart-loss.svg'), renderChart(run.result, { metric: 'loss' }));
}
const command = 'npm run results';
writeFileSync(
  join(dir, 'README.md'),
  `# Normalization under the arrival patterns Kafka delivers\n\n${resultsSection(runs, '', command, extras, distributed)}`,
);
const readme = join(root, 'README.md');
writeFileSync(
  readme,
  replaceMarked(
    readFileSync(readme, 'utf8'),
    resultsSection(runs, 'docs/results/', command, extras, distributed),
  ),
);
process.stdout.write(
  `wrote ${join(dir, 'README.md')} and the README results section from ${runs.map((r) => r.name).join(', ')}\n`,
);
