/**
 * The package as a user imports it, after `npm run build`: `dist/index.js` keeps every name of the public
 * contract (README "Library"), internal kernels and validation helpers stay private, and the subpath entry
 * points (package.json#exports, resolved by node's self-reference to the package name) load only their own
 * dependencies: importing a normalizer or a model loads no Kafka, metrics or logging code.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { root } from './cliHelpers.js';

beforeAll(() => {
  const started = Date.now();
  try {
    execFileSync(
      process.execPath,
      [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
      { cwd: root, stdio: 'pipe' },
    );
  } catch {
    // type errors elsewhere in the tree do not stop tsc from emitting; the checks below decide
  }
  const entry = join(root, 'dist', 'index.js');
  if (!existsSync(entry) || statSync(entry).mtimeMs < started - 1000)
    throw new Error('tsc did not emit dist/index.js');
});

/**
 * Imports `specifier` in a fresh node (cwd: the package, so `streamnorm/...` resolves through its own
 * exports) and reports its export names and every package it loaded: ESM resolutions recorded by a resolve
 * hook, CommonJS files from the require cache (kafkajs, prom-client and pino are CommonJS).
 */
function probe(specifier: string): { exports: string[]; packages: string[] } {
  const hooks = `
    let port;
    export function initialize(data) { port = data.port; }
    export async function resolve(specifier, context, next) {
      const r = await next(specifier, context);
      port.postMessage(r.url);
      return r;
    }`;
  const script = `
    import { createRequire, register } from 'node:module';
    import { MessageChannel } from 'node:worker_threads';
    const { port1, port2 } = new MessageChannel();
    const urls = [];
    port1.on('message', (u) => urls.push(u));
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hooks)}), {
      data: { port: port2 },
      transferList: [port2],
    });
    const m = await import(${JSON.stringify(specifier)});
    await new Promise((r) => setTimeout(r, 200));
    port1.close();
    const files = [...urls, ...Object.keys(createRequire(process.cwd() + '/').cache)];
    const packages = new Set();
    for (const f of files) {
      const hit = /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(f);
      if (hit) packages.add(hit[1]);
    }
    console.log(JSON.stringify({ exports: Object.keys(m), packages: [...packages].sort() }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return JSON.parse(out.trim().split('\n').at(-1)!) as { exports: string[]; packages: string[] };
}

/** The runtime names of the public contract (README "Library"; types such as `Tensor` have no runtime name). */
const PUBLIC = [
  'tensor',
  'BatchNorm',
  'LayerNorm',
  'InstanceNorm',
  'GroupNorm',
  'BatchRenorm',
  'OnlineNorm',
  'NormalizationError',
  'StandardScaler',
  'MinMaxScaler',
  'weightStandardize',
  'LinearModel',
  'WindowNet',
  'Mlp',
  'EarlyStopping',
  'PageHinkley',
  'ADWIN',
  'fromKafka',
  'fromRecording',
  'decodeEvents',
  'rebatch',
  'prequential',
  'fanOut',
  'checkpoint',
  'instrument',
  'toKafka',
  'toRecording',
  'MemoryDeadLetterSink',
  'FileDeadLetterSink',
  'KafkaDeadLetterSink',
  'runLivePipeline',
  'replayIntoModels',
  'syntheticEvents',
  'sensorEvents',
  'spamEvents',
  'loadDataset',
  'createRegistry',
  'PipelineMetrics',
  'startMetricsServer',
];

/** Internal kernels, validation helpers and test scaffolding: not part of the contract. */
const INTERNAL = [
  'ensure',
  'checkBool',
  'readDims',
  'checkEps',
  'ddot',
  'daxpy',
  'rowsForward',
  'channelMoments',
  'sumRange',
  'operate',
  'NormSlot',
  'Dense',
  'modelConformanceCases',
  'runCell',
];

const HEAVY = ['kafkajs', 'pino', 'prom-client'];

describe('package entry points (dist, through package.json#exports)', () => {
  it('streamnorm exports every public name and none of the internals', () => {
    const { exports, packages } = probe('streamnorm');
    for (const name of PUBLIC) expect(exports, name).toContain(name);
    for (const name of INTERNAL) expect(exports, name).not.toContain(name);
    // the probe sees what the root entry loads: Kafka, metrics and logging among them
    for (const p of HEAVY) expect(packages).toContain(p);
  });

  it.each(['streamnorm/normalizers', 'streamnorm/models', 'streamnorm/testing'])(
    '%s loads no kafkajs, prom-client or pino (nor rxjs)',
    (specifier) => {
      const { exports, packages } = probe(specifier);
      expect(exports.length).toBeGreaterThan(0);
      for (const p of [...HEAVY, 'rxjs', 'vitest']) expect(packages).not.toContain(p);
    },
  );

  it('each subpath exports its family', () => {
    expect(probe('streamnorm/normalizers').exports).toEqual(
      expect.arrayContaining([
        'BatchNorm',
        'LayerNorm',
        'InstanceNorm',
        'GroupNorm',
        'BatchRenorm',
        'OnlineNorm',
      ]),
    );
    expect(probe('streamnorm/models').exports).toEqual(
      expect.arrayContaining([
        'LinearModel',
        'WindowNet',
        'Mlp',
        'EarlyStopping',
        'modelFamilies',
        'createVariant',
      ]),
    );
    const streams = probe('streamnorm/streams');
    expect(streams.exports).toEqual(
      expect.arrayContaining(['fromKafka', 'rebatch', 'prequential', 'checkpoint']),
    );
    const metrics = probe('streamnorm/metrics');
    expect(metrics.exports).toEqual(
      expect.arrayContaining(['createRegistry', 'PipelineMetrics', 'startMetricsServer']),
    );
    expect(metrics.packages).not.toContain('kafkajs');
    expect(probe('streamnorm/testing').exports).toEqual(
      expect.arrayContaining(['modelChecks', 'runModelChecks', 'modelConformanceCases']),
    );
  });

  it('streamnorm/testing runs the model checks in plain node, without a test framework', () => {
    const out = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { modelConformanceCases, runModelChecks } from 'streamnorm/testing';
         const c = modelConformanceCases.find((x) => x.name === 'linear/logistic/ftrl/sparse');
         runModelChecks(c);
         let failed = '';
         try { runModelChecks({ ...c, weights: (m) => c.weights(m).map((v) => v + 1) }); } catch (e) { failed = e.message; }
         console.log(JSON.stringify({ failed }));`,
      ],
      { cwd: root, encoding: 'utf8', timeout: 60_000 },
    );
    const { failed } = JSON.parse(out.trim()) as { failed: string };
    expect(failed).toMatch(
      /linear\/logistic\/ftrl\/sparse: reports weight statistics consistent with its state/,
    );
  });
});
