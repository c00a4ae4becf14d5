/**
 * Worker threads on modules of this package, from dist and from sources alike (compare's cell workers, the
 * SyncBN worker of `run --sync-bn`).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** The module `name` beside `of` (an `import.meta.url`), in its form: `name.ts` from sources, `name.js` from dist. */
export function siblingModule(of: string, name: string): URL {
  return new URL(`./${name}${of.endsWith('.ts') ? '.ts' : '.js'}`, of);
}

/**
 * Starts a worker on `entry`. A .js entry starts as it is; a .ts one (sources, under tsx or vitest) through a
 * bootstrap that registers tsx's loader inside the worker first, since a worker does not inherit the parent's
 * TypeScript loader.
 */
export function startModuleWorker(entry: URL, workerData: unknown): Worker {
  if (!entry.href.endsWith('.ts')) return new Worker(entry, { workerData });
  // tsx's ESM API (the `import` condition of `tsx/esm/api`): register() installs its hooks in this thread.
  const pkgPath = createRequire(import.meta.url).resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as {
    exports: { './esm/api': { import: { default: string } } };
  };
  const api = pathToFileURL(join(dirname(pkgPath), pkg.exports['./esm/api'].import.default)).href;
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(code, { eval: true, workerData });
}
