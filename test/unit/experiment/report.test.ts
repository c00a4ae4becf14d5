import { describe, expect, it } from 'vitest';
import {
  drawbacksTable,
  errorTable,
  replaceMarked,
  reportReading,
  reportWhy,
  resultsSection,
} from '../../../src/experiment/report.js';
import { sampleResult } from './fixture.js';

const run = { name: 'synthetic', description: 'windows', result: sampleResult() };

describe('results report', () => {
  it('fills the drawbacks table from the rows, with the paired differences and their intervals', () => {
    const t = drawbacksTable(new Map([['synthetic', run]]));
    const lines = t.split('\n');
    expect(lines).toHaveLength(2 + 8);
    const small = lines.find((l) => l.startsWith('| unstable with small batches')) as string;
    expect(small).toContain('batch 1: BN 40.0 % ± 5.0, LN 15.0 % ± 5.0 (LN − BN −10.0 ± 3.0 pp)');
    // the failed LayerNorm cell is not turned into a number
    const bursty = lines.find((l) => l.startsWith('| unfriendly to online learning')) as string;
    expect(bursty).toContain('batch 16: no result (failed or not run)');
    expect(lines.find((l) => l.startsWith('| unfriendly to recurrent nets'))).toMatch(
      /not run in this report/,
    );
    expect(lines.find((l) => l.startsWith('| batch size 1'))).toMatch(/\| not run \|$/);
  });

  it('fills the recurrent and GN + WS rows from their own runs, each normalizer against BN with its interval', () => {
    const relabel = (from: string, to: string) => {
      const r = sampleResult();
      r.rows = r.rows.map((x) => (x.normalizer === from ? { ...x, normalizer: to } : x));
      r.meta.normalizers = r.meta.normalizers.map((n) => (n === from ? to : n));
      return r;
    };
    const rnnResult = sampleResult();
    rnnResult.meta.model = { family: 'rnn' };
    const t = drawbacksTable(
      new Map([
        ['rnn', { name: 'rnn', description: 'digits as sequences', result: rnnResult }],
        ['gnws', { name: 'gnws', description: '', result: relabel('layer', 'group:4+ws') }],
      ]),
    );
    const rnn = t.split('\n').find((l) => l.startsWith('| unfriendly to recurrent nets')) as string;
    expect(rnn).toContain('rnn');
    expect(rnn).toContain('batch 4: BN 30.0 % ± 5.0, LN 16.0 % ± 5.0 (LN − BN −10.0 ± 3.0 pp)');
    expect(rnn).toContain('majority baseline 50.0 %');
    expect(rnn).not.toMatch(/not run/);
    const gn = t.split('\n').find((l) => l.startsWith('| alternatives: Group Norm')) as string;
    expect(gn).toContain('batch 1: BN 40.0 % ± 5.0, GN+WS 15.0 % ± 5.0 (GN+WS − BN −10.0 ± 3.0 pp)');
    expect(gn).not.toMatch(/not run/);
  });

  it('fills the distributed row from npm run results:distributed, each replica setting against one process with its interval', () => {
    const row = (normalizer: string, error: number, minusRef: number) => ({
      normalizer,
      skew: 0.9,
      replicas: 4,
      batchPerReplica: 2,
      statisticsOver: normalizer === 'syncbatch' ? 8 : 2,
      seeds: 10,
      error,
      errorCi95: 0.011,
      errorAfterWarmup: error,
      errorAfterWarmupCi95: 0.011,
      loss: 1,
      lossCi95: 0.01,
      errorMinusReference: minusRef,
      errorMinusReferenceCi95: 0.013,
      steps: 480,
      events: 3860,
    });
    const options = {
      replicas: 4,
      batch: 2,
      seeds: 10,
      events: 4000,
      skews: [0.9],
      variants: ['batch@all', 'batch', 'syncbatch'],
      features: 8,
      classes: 4,
      hidden: 16,
      lr: 0.1,
    };
    const line = (d?: Parameters<typeof drawbacksTable>[1]) =>
      drawbacksTable(new Map([['synthetic', run]]), d)
        .split('\n')
        .find((l) => l.startsWith('| distributed training')) as string;
    expect(line()).toMatch(/not run in this report/);
    const filled = line({
      options,
      rows: [
        row('batch (one process, batch 8)', 0.054, 0),
        row('batch', 0.689, 0.636),
        row('syncbatch', 0.054, 0),
      ],
    });
    expect(filled).toContain('4 data-parallel replicas × batch 2');
    expect(filled).toContain(
      'skew 0.9: one process 5.4 % ± 1.1; BN per replica 68.9 % ± 1.1 (+63.6 ± 1.3 pp), SyncBN 5.4 % ± 1.1 (±0.0 ± 1.3 pp)',
    );
    expect(filled).not.toMatch(/not run/);
  });

  it('reports the singleton policies at batch size 1 from their own runs, a failing policy by its reason', () => {
    const failing = sampleResult();
    failing.rows = failing.rows.map((r) =>
      r.normalizer === 'batch' && r.batchSize === 1
        ? { ...r, status: 'failed' as const, reason: 'seed 1: Expected more than 1 value per channel' }
        : r,
    );
    const t = drawbacksTable(
      new Map([
        ['mnist', { ...run, name: 'mnist' }],
        ['mnist-singleton-error', { name: 'mnist-singleton-error', description: '', result: failing }],
      ]),
    );
    const row = t.split('\n').find((l) => l.startsWith('| batch size 1')) as string;
    expect(row).toContain('BN 40.0 % ± 5.0, LN 15.0 % ± 5.0');
    expect(row).toContain('Policy `error`: every run fails (seed 1: Expected more than 1 value per channel)');
    expect(row).not.toContain('Policy `skip`');
  });

  it('the reading names only differences whose interval excludes 0', () => {
    const res = sampleResult();
    const r = res.rows.find((x) => x.normalizer === 'layer' && x.batchSize === 4 && x.arrival === 'iid');
    if (r?.status === 'ok') r.errorDiffVsBatchCi95 = 0.2; // −10 ± 20 pp: level
    const lines = reportReading([{ ...run, result: res }]);
    expect(lines[0]).toMatch(/^- \*\*synthetic, iid\*\*: beat BN: layer at 1 \(−10\.0 ± 3\.0 pp\)/);
    expect(lines[0]).not.toContain('layer at 4');
    expect(lines[0]).toContain('1 comparison(s) are level');
  });

  it('says when every row of an arrival order is worse than always answering the majority class', () => {
    const res = sampleResult();
    res.rows = res.rows.map((x) => (x.status === 'ok' ? { ...x, baselineError: 0.1 } : x));
    const lines = reportReading([{ ...run, result: res }]);
    expect(lines[0]).toContain('Every row here errs more than always answering the majority class (10.0 %)');
    expect(reportReading([run])[0]).not.toContain('majority class');
  });

  it('explains why only where the intervals show the pattern', () => {
    const why = reportWhy([run]);
    expect(why).toEqual([
      expect.stringMatching(
        /^- \*\*synthetic, bursty:8\*\*: an arrival batch of at most 8 events holds one class.*BN loses at batch 4\.$/,
      ),
    ]);
    const level = sampleResult();
    for (const r of level.rows)
      if (r.status === 'ok' && r.errorDiffVsBatch !== undefined) r.errorDiffVsBatchCi95 = 0.5;
    expect(reportWhy([{ ...run, result: level }])).toEqual([]);
  });

  it('tables errors per arrival and normalizer, with the baseline, and a failed cell as its reason', () => {
    const t = errorTable(run);
    expect(t).toContain('| iid | batch | 40.0 ± 5.0 | 30.0 ± 5.0 | 20.0 ± 5.0 |');
    expect(t).toContain('failed: seed 2');
    expect(t).toContain('majority class scores **50.0 %**');
  });

  it('adds per-episode recall and false alarms per 1,000 events under an anomaly run', () => {
    const anomaly = sampleResult();
    anomaly.rows = anomaly.rows.map((r) =>
      r.status === 'ok'
        ? {
            ...r,
            episodes: 2,
            episodeRecall: 0.5,
            episodeRecallCi95: 0.25,
            falseAlarmsPer1000: 12.34,
            falseAlarmsPer1000Ci95: 1.5,
          }
        : r,
    );
    const t = errorTable({ ...run, result: anomaly });
    expect(t).toContain('episode recall');
    expect(t).toContain('| iid | batch | 1 | 40.0 ± 5.0 | 0.50 ± 0.25 | 12.3 ± 1.5 |');
    expect(t).toContain('2 anomaly episodes');
    expect(errorTable(run)).not.toContain('episode recall');
  });

  it('replaces the marked README section and refuses a text without markers', () => {
    const text = 'a\n<!-- results:start -->\nSTALE TEXT\n<!-- results:end -->\nb\n';
    const out = replaceMarked(text, resultsSection([run], 'docs/results/', 'npm run results'));
    expect(out.startsWith('a\n<!-- results:start -->\nGenerated by `npm run results`')).toBe(true);
    expect(out).not.toContain('STALE TEXT');
    expect(out.endsWith('<!-- results:end -->\nb\n')).toBe(true);
    expect(() => replaceMarked('no markers', 'x')).toThrow(/markers/);
  });
});
