/**
 * `npm run bench [suite ...]`: runs every suite in bench/suites (or the named ones), each in its own
 * process so one suite's JIT state and heap do not colour the next, and writes bench/results/<suite>.json.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { benchDir } from './lib.js';

const wanted = process.argv.slice(2);
const suites = readdirSync(join(benchDir, 'suites'))
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''))
  .filter((s) => wanted.length === 0 || wanted.includes(s))
  .sort();

if (suites.length === 0) {
  console.error(`no bench suite matches ${wanted.join(', ')}`);
  process.exit(2);
}

let failed = 0;
for (const suite of suites) {
  console.log(`\n== bench ${suite}`);
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--expose-gc', join(benchDir, 'runSuite.ts'), suite],
    { stdio: 'inherit' },
  );
  if (r.status !== 0) {
    failed++;
    console.error(`bench ${suite} failed (exit ${r.status})`);
  }
}
process.exit(failed === 0 ? 0 : 1);
