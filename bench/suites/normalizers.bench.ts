/**
 * Forward (training) + backward time per element for every normalizer, at streaming shapes (N ∈ {1, 2, 4, 8},
 * C·L ≤ 1024) and at a large shape (N = 64, C = 64, L = 128), beside PyTorch float64 on one thread
 * (bench/torch/normalizers.py) and plain C -O2 loops for BN/LN/GN (bench/native/normalizers.c), all in
 * this run. Ratios are time ratios (below 1: TypeScript is faster).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Rng } from '../../src/core/rng.js';
import type { Tensor } from '../../src/core/tensor.js';
import { Bench } from 'tinybench';
import { createNormalizer, type Normalizer } from '../../src/normalizers/index.js';
import { type Case, type SuiteResult, benchDir, compileC, hasTorch, header, runJson } from '../lib.js';

interface Shape {
  n: number;
  c: number;
  l: number;
  /** groups for GroupNorm */
  g: number;
  scale: 'streaming' | 'large';
}

const shapes: Shape[] = [];
for (const [c, l] of [
  [8, 128],
  [32, 32],
] as const) {
  for (const n of [1, 2, 4, 8]) shapes.push({ n, c, l, g: c === 8 ? 4 : 8, scale: 'streaming' });
}
shapes.push({ n: 64, c: 64, l: 128, g: 8, scale: 'large' });

const allSpecs = ['batch', 'layer', 'instance', 'group', 'batchrenorm', 'online'] as const;

/**
 * Optional filters for quicker runs: BENCH_NORMALIZERS=layer,group keeps those normalizers,
 * BENCH_SHAPES=64x64x128,8x32x32 those N x C x L shapes. Unset: everything.
 */
function envList(name: string): string[] | null {
  const v = process.env[name]?.trim();
  return v ? v.split(',').map((t) => t.trim()) : null;
}
const wantedSpecs = envList('BENCH_NORMALIZERS');
const wantedShapes = envList('BENCH_SHAPES');
const specs = allSpecs.filter((k) => wantedSpecs === null || wantedSpecs.includes(k));
if (wantedShapes !== null) {
  const kept = shapes.filter((s) => wantedShapes.includes(`${s.n}x${s.c}x${s.l}`));
  shapes.splice(0, shapes.length, ...kept);
}
if (specs.length === 0 || shapes.length === 0)
  throw new Error('BENCH_NORMALIZERS / BENCH_SHAPES select no normalizer or no shape');
const torchKinds = new Set(['batch', 'layer', 'instance', 'group'].filter((k) => specs.some((s) => s === k)));
const cKinds = new Set(['batch', 'layer', 'group'].filter((k) => specs.some((s) => s === k)));

const key = (kind: string, s: Shape): string => `${kind} [${s.n},${s.c},${s.l}]`;

/**
 * One forward (training) + backward call. `owned`: outputs written into caller-owned buffers
 * (`ForwardOptions.out`, `backward(dy, out)`), the allocation-free path the C loops also take;
 * otherwise the default API that returns fresh arrays.
 */
function makeTask(spec: string, s: Shape, owned: boolean): () => void {
  const norm = createNormalizer(spec === 'group' ? `group:${s.g}` : spec, {
    channels: s.c,
    length: s.l,
  }) as Normalizer;
  const rng = new Rng(1);
  const size = s.n * s.c * s.l;
  const x: Tensor = {
    data: Float64Array.from({ length: size }, () => 1 + rng.normal()),
    shape: [s.n, s.c, s.l],
  };
  const dy: Tensor = {
    data: Float64Array.from({ length: size }, () => rng.normal()),
    shape: [s.n, s.c, s.l],
  };
  if (!owned) {
    return () => {
      norm.forward(x, { training: true });
      norm.backward(dy);
    };
  }
  const out = new Float64Array(size);
  const dx = new Float64Array(size);
  const opts = { training: true, out };
  return () => {
    norm.forward(x, opts);
    norm.backward(dy, dx);
  };
}

interface External {
  kind: string;
  shape: number[];
  medianNs: number;
  minNs: number;
}

interface Timing {
  medianNs: number;
  minNs: number;
}

const collectGarbage = (globalThis as { gc?: () => void }).gc;

/**
 * tinybench median and min per task (lib.measure reports the median only; the min is kept as well).
 * A full GC before each task's warmup and run (bench/run.ts passes --expose-gc): otherwise a task pays
 * for the garbage its predecessor left (a `fresh` task drops two outputs per call, 8 MB at the large shape).
 */
async function timeTasks(tasks: Record<string, () => void>): Promise<Record<string, Timing>> {
  const bench = new Bench({ time: 400, warmupTime: 150, setup: () => collectGarbage?.() });
  for (const [name, fn] of Object.entries(tasks)) bench.add(name, fn);
  await bench.run();
  const out: Record<string, Timing> = {};
  for (const task of bench.tasks) {
    const r = task.result as { latency?: { p50?: number; min?: number } } | undefined;
    if (r?.latency?.p50 === undefined || r.latency.min === undefined)
      throw new Error(`bench task ${task.name} produced no result`);
    out[task.name] = { medianNs: r.latency.p50 * 1e6, minNs: r.latency.min * 1e6 };
  }
  return out;
}

export async function run(): Promise<SuiteResult> {
  const notes: string[] = [];
  if (wantedSpecs !== null || wantedShapes !== null)
    notes.push(
      `filtered run: BENCH_NORMALIZERS=${wantedSpecs?.join(',') ?? '(all)'} BENCH_SHAPES=${wantedShapes?.join(',') ?? '(all)'}`,
    );
  const cBin = compileC('normalizers.c');
  const withTorch = hasTorch();
  const torchVersion = withTorch
    ? execFileSync('/usr/bin/python3', ['-c', 'import torch; print(torch.__version__)'], {
        encoding: 'utf8',
      }).trim()
    : 'absent';
  if (!withTorch) notes.push('PyTorch not importable by /usr/bin/python3: no torch column');
  const extKey = (e: External): string => `${e.kind} [${e.shape.join(',')}]`;
  const cMap = new Map<string, Timing>();
  const tMap = new Map<string, Timing>();
  const owned: Record<string, Timing> = {};
  const fresh: Record<string, Timing> = {};
  /** Keeps, per kind, the faster of two measurements (lower median; min of both mins). */
  const keepFaster = (map: Map<string, Timing>, runs: External[]): void => {
    for (const e of runs) {
      const k = extKey(e);
      const prev = map.get(k);
      if (prev === undefined) map.set(k, { medianNs: e.medianNs, minNs: e.minNs });
      else
        map.set(k, {
          medianNs: Math.min(prev.medianNs, e.medianNs),
          minNs: Math.min(prev.minNs, e.minNs),
        });
    }
  };
  const measureExternal = (s: Shape): void => {
    const cArgs = [...cKinds].flatMap((k) => [k, String(s.n), String(s.c), String(s.l), String(s.g)]);
    if (cArgs.length > 0) keepFaster(cMap, runJson(cBin, cArgs) as External[]);
    if (withTorch && torchKinds.size > 0) {
      const torchArgs = [...torchKinds].map((k) => `${k}:${s.n}:${s.c}:${s.l}:${s.g}`);
      keepFaster(
        tMap,
        runJson('/usr/bin/python3', [join(benchDir, 'torch', 'normalizers.py'), ...torchArgs]) as External[],
      );
    }
  };
  // Shape by shape: C and PyTorch, then TypeScript, then C and PyTorch again, so all three see about the
  // same machine load; of the two C (PyTorch) runs the faster counts, which errs against TypeScript.
  for (const s of shapes) {
    measureExternal(s);
    const tasks: Record<string, () => void> = {};
    for (const spec of specs) {
      tasks[key(spec, s)] = makeTask(spec, s, true);
      tasks[`fresh ${key(spec, s)}`] = makeTask(spec, s, false);
    }
    const res = await timeTasks(tasks);
    for (const spec of specs) {
      owned[key(spec, s)] = res[key(spec, s)];
      fresh[key(spec, s)] = res[`fresh ${key(spec, s)}`];
    }
    measureExternal(s);
  }

  const cases: Case[] = [];
  const ratios: Record<string, number> = {};
  for (const s of shapes) {
    const units = s.n * s.c * s.l;
    for (const spec of specs) {
      const k = key(spec, s);
      const ts = owned[k];
      const tsFresh = fresh[k];
      const c = cMap.get(k);
      const torch = tMap.get(k);
      cases.push({
        name: `ts ${k}`,
        medianNs: ts.medianNs,
        units,
        perUnitNs: ts.medianNs / units,
        scale: s.scale,
        minNs: ts.minNs,
        freshOutputsMedianNs: tsFresh.medianNs,
        ...(torch
          ? { torchMedianNs: torch.medianNs, torchMinNs: torch.minNs, torchPerUnitNs: torch.medianNs / units }
          : {}),
        ...(c ? { cMedianNs: c.medianNs, cMinNs: c.minNs, cPerUnitNs: c.medianNs / units } : {}),
      });
      if (torch) {
        ratios[`ts/torch ${k}`] = ts.medianNs / torch.medianNs;
        ratios[`ts-fresh/torch ${k}`] = tsFresh.medianNs / torch.medianNs;
        ratios[`min ts/torch ${k}`] = ts.minNs / torch.minNs;
      }
      if (c) {
        ratios[`ts/c ${k}`] = ts.medianNs / c.medianNs;
        ratios[`ts-fresh/c ${k}`] = tsFresh.medianNs / c.medianNs;
        ratios[`min ts/c ${k}`] = ts.minNs / c.minNs;
      }
    }
  }
  // Summary: worst ratio per scale; targets: ts/torch < 1 at streaming shapes, ts/c <= 2 at the large shape.
  const worst = (prefix: string, scale: string): number =>
    Math.max(
      ...Object.entries(ratios)
        .filter(
          ([name]) =>
            name.startsWith(`${prefix} `) &&
            shapes.some((s) => s.scale === scale && name.endsWith(`[${s.n},${s.c},${s.l}]`)),
        )
        .map(([, v]) => v),
    );
  for (const prefix of ['ts/torch', 'ts-fresh/torch', 'min ts/torch', 'ts/c', 'ts-fresh/c', 'min ts/c']) {
    for (const scale of ['streaming', 'large']) {
      const w = worst(prefix, scale);
      if (Number.isFinite(w)) ratios[`max ${prefix} ${scale}`] = w;
    }
  }
  notes.push(
    `torch ${torchVersion} float64, torch.set_num_threads(1); C: gcc -O2; TypeScript: tinybench, forward(training)+backward per call`,
    'ts = outputs into caller-owned buffers (ForwardOptions.out, backward(dy, out)), the allocation-free path the C loops take; ts-fresh = default API returning fresh arrays',
    'ratios are time ratios of medians; "min ..." ratios use the fastest round of each, less sensitive to a loaded machine',
    'C, PyTorch and TypeScript are measured shape by shape in turn (C and PyTorch before and after TypeScript, the faster of the two kept), so machine load colours all three about alike',
    'the C loops mirror the TypeScript passes: finiteness of x and dy read off the first reduction, mean and variance in one shifted pass, LayerNorm backward two rows per sweep',
    'GroupNorm uses G = 4 for C = 8 and G = 8 otherwise; InstanceNorm affine; LayerNorm over [C, L]',
  );
  return { ...header('normalizers'), cases, ratios, notes };
}
