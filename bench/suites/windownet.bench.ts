/**
 * WindowNet learning throughput (events/s) per normalizer at arrival batch sizes 1 and 32: one
 * `learnMany` call = one optimizer step on the batch, everything included (input validation, the
 * normalizer's snapshot for the non-finite guard, forward, backward, Adam). Windows [C=3, L=32], conv
 * H=16, K=5 (the normalizer sees [N, 16, 28]), 2 classes. BatchNorm runs with the 'running-stats'
 * singleton policy; with L′ = 28 values per channel even a one-event batch has batch statistics, so the
 * policy never fires here (it does for Mlp, or WindowNet with L′ = 1).
 */
import { Rng } from '../../src/core/rng.js';
import { WindowNet } from '../../src/models/nets/windowNet.js';
import { type Case, type SuiteResult, header, measure } from '../lib.js';

const C = 3;
const L = 32;
const POOL = 256;
const NORMALIZERS = ['none', 'layer', 'batch', 'instance', 'group:4', 'batchrenorm', 'online'];
const BATCHES = [1, 32];

function pool(): { X: number[][][]; Y: number[] } {
  const rng = new Rng(1);
  const X: number[][][] = [];
  const Y: number[] = [];
  for (let i = 0; i < POOL; i++) {
    const y = rng.int(2);
    X.push(
      Array.from({ length: C }, (_, c) =>
        Array.from(
          { length: L },
          (_, t) => (c === 0 ? Math.sin((2 * Math.PI * (y + 1) * t) / L) : 0) + rng.normal(0, 0.3),
        ),
      ),
    );
    Y.push(y);
  }
  return { X, Y };
}

export async function run(): Promise<SuiteResult> {
  const { X, Y } = pool();
  const tasks: Record<string, () => void> = {};
  for (const normalizer of NORMALIZERS) {
    for (const b of BATCHES) {
      const net = new WindowNet({
        inChannels: C,
        length: L,
        hidden: 16,
        kernel: 5,
        classes: 2,
        normalizer,
        singletonPolicy: 'running-stats',
        seed: 1,
      });
      const batches: { X: number[][][]; Y: number[] }[] = [];
      for (let i = 0; i + b <= POOL; i += b) batches.push({ X: X.slice(i, i + b), Y: Y.slice(i, i + b) });
      let k = 0;
      tasks[`learnMany/${normalizer}/batch${b}`] = () => {
        const batch = batches[k++ % batches.length];
        net.learnMany(batch.X, batch.Y);
      };
    }
  }
  const ns = await measure(tasks, { time: 400, warmupTime: 100 });
  const cases: Case[] = [];
  const eps: Record<string, number> = {};
  for (const normalizer of NORMALIZERS) {
    for (const b of BATCHES) {
      const name = `learnMany/${normalizer}/batch${b}`;
      const perCall = ns[name];
      const rate = (b * 1e9) / perCall;
      eps[name] = rate;
      cases.push({
        name,
        medianNs: perCall,
        units: b,
        perUnitNs: perCall / b,
        eventsPerSecond: Math.round(rate),
      });
    }
  }
  const ratios: Record<string, number> = {};
  for (const normalizer of NORMALIZERS) {
    ratios[`${normalizer}_batch32_vs_batch1_events_per_s`] =
      eps[`learnMany/${normalizer}/batch32`] / eps[`learnMany/${normalizer}/batch1`];
    if (normalizer !== 'none') {
      for (const b of BATCHES) {
        ratios[`${normalizer}_vs_none_batch${b}_events_per_s`] =
          eps[`learnMany/${normalizer}/batch${b}`] / eps[`learnMany/none/batch${b}`];
      }
    }
  }
  const table = cases.map((c) => `${c.name}: ${String(c.eventsPerSecond)} events/s`);
  for (const line of table) console.log(line);
  return {
    ...header('windownet'),
    cases,
    ratios,
    notes: [
      'One learnMany call = one Adam step on the batch; events/s = batch size / median call time.',
      "BatchNorm uses singletonPolicy 'running-stats'; with L' = 28 it never fires in this configuration.",
      ...table,
    ],
  };
}
