import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { benchDir, writeResult, type SuiteResult } from './lib.js';

const suite = process.argv[2];
const mod = (await import(pathToFileURL(join(benchDir, 'suites', `${suite}.bench.ts`)).href)) as {
  run: () => Promise<SuiteResult>;
};
const result = await mod.run();
const path = writeResult(result);
console.log(JSON.stringify({ suite: result.suite, ratios: result.ratios ?? {} }, null, 2));
console.log(`wrote ${path}`);
