/**
 * The results report `npm run results` ends with: from the comparisons' results.json files, the Markdown of
 * docs/results/README.md and of the README's results section. Every number in it is read from a result and
 * printed with its 95 % interval; a claim is made only where an interval excludes 0, and a drawback whose
 * experiment did not run says so instead of borrowing a number.
 */
import { referenceName, type DistributedExperimentOptions, type DistributedRow } from './distributed.js';
import { isOkRow, type CompareResult, type CompareRowOk } from './types.js';

/** One comparison of the report: its name (a folder under docs/results) and what the stream is. */
export interface ReportRun {
  name: string;
  description: string;
  result: CompareResult;
}

/** Three decimals, without the "-0.000" of a rounding-level negative. */
const fixed3 = (v: number): string => (Math.abs(v) < 0.0005 ? 0 : v).toFixed(3);
const pct = (v: number): string => `${(100 * v).toFixed(1)} %`;
const pp = (v: number): string => `${v > 0 ? '+' : v < 0 ? '−' : '±'}${(100 * Math.abs(v)).toFixed(1)}`;
const ci = (h: number | null | undefined): string =>
  h === null || h === undefined || !Number.isFinite(h) ? '' : ` ± ${(100 * h).toFixed(1)}`;

function rowsOf(run: ReportRun): CompareRowOk[] {
  return run.result.rows.filter(isOkRow);
}

function find(
  run: ReportRun | undefined,
  normalizer: string,
  arrival: string,
  batch?: number,
): CompareRowOk[] {
  if (run === undefined) return [];
  return rowsOf(run).filter(
    (r) =>
      r.normalizer === normalizer && r.arrival === arrival && (batch === undefined || r.batchSize === batch),
  );
}

/** "BN 34.3 ± 2.1 %, LN 28.1 ± 1.0 % (LN − BN −6.2 ± 2.0 pp)" for one batch size. */
function pairText(bn: CompareRowOk, other: CompareRowOk, label: string): string {
  return (
    `BN ${pct(bn.error)}${ci(bn.errorCi95)}, ${label} ${pct(other.error)}${ci(other.errorCi95)} ` +
    `(${label} − BN ${pp(other.errorDiffVsBatch ?? NaN)}${ci(other.errorDiffVsBatchCi95)} pp)`
  );
}

/** Whether a paired difference's interval excludes 0, and on which side. */
function verdict(r: CompareRowOk): 'better' | 'worse' | 'level' {
  const d = r.errorDiffVsBatch;
  const h = r.errorDiffVsBatchCi95;
  if (d === undefined || h === null || h === undefined || !Number.isFinite(h)) return 'level';
  if (d + h < 0) return 'better';
  if (d - h > 0) return 'worse';
  return 'level';
}

function sizes(run: ReportRun): number[] {
  return [
    ...new Set(
      rowsOf(run)
        .filter((r) => typeof r.batchSize === 'number')
        .map((r) => r.batchSize as number),
    ),
  ].sort((a, b) => a - b);
}

/** The table of error (and log loss) per arrival order × normalizer × batch size, with intervals. */
export function errorTable(run: ReportRun): string {
  const out: string[] = [];
  const bs = sizes(run);
  const m = run.result.meta;
  out.push(
    `| arrival | normalizer | ${bs.map((b) => `batch ${b}`).join(' | ')} |`,
    `| --- | --- | ${bs.map(() => '---:').join(' | ')} |`,
  );
  for (const arrival of m.arrivals) {
    for (const n of m.normalizers) {
      const cells = bs.map((b) => {
        const r = run.result.rows.find(
          (x) => x.arrival === arrival && x.normalizer === n && x.batchSize === b,
        );
        if (r === undefined) return '';
        if (!isOkRow(r)) return `failed: ${r.reason}`;
        return `${(100 * r.error).toFixed(1)}${ci(r.errorCi95)}`;
      });
      out.push(`| ${arrival} | ${n} | ${cells.join(' | ')} |`);
    }
  }
  const base = rowsOf(run);
  const b = base.length === 0 ? m.baselineError : base.reduce((a, r) => a + r.baselineError, 0) / base.length;
  const withEpisodes = base.filter((r) => r.episodeRecall !== undefined);
  if (withEpisodes.length > 0) {
    const h = (v: number | null | undefined, d: number): string =>
      v === null || v === undefined || !Number.isFinite(v) ? '' : ` ± ${v.toFixed(d)}`;
    out.push(
      '',
      'Event-level scores of the anomaly stream: the share of its anomaly episodes detected (any event of an episode predicted anomalous) and normal events predicted anomalous per 1,000 events, mean ± 95 % t-interval:',
      '',
      '| arrival | normalizer | batch | error (%) | episode recall | false alarms /1k |',
      '| --- | --- | --- | ---: | ---: | ---: |',
    );
    for (const r of withEpisodes) {
      const recall = r.episodeRecall as number;
      out.push(
        `| ${r.arrival} | ${r.normalizer} | ${r.batchSize} | ${(100 * r.error).toFixed(1)}${ci(r.errorCi95)} | ` +
          `${Number.isFinite(recall) ? recall.toFixed(2) : '-'}${h(r.episodeRecallCi95, 2)} | ` +
          `${(r.falseAlarmsPer1000 ?? NaN).toFixed(1)}${h(r.falseAlarmsPer1000Ci95, 1)} |`,
      );
    }
    out.push('', `The stream holds ${withEpisodes[0].episodes} anomaly episodes.`);
  }
  out.push('');
  out.push(
    `Prequential error (%), mean ± 95 % t-interval over ${m.seeds} seeds; always answering the majority class scores **${pct(b)}**. ` +
      `${m.stepEvents === 'arrival' ? 'One optimizer step per arrival batch' : `One optimizer step per ${m.stepEvents} events at every batch size`}, Adam lr ${m.lr === 'auto' ? 'tuned per row' : m.lr}.`,
  );
  return out.join('\n');
}

/** "mnist, 2000 events of [28, 28] (rnn), iid arrival, one step per 8 events, lr 0.01, 10 seeds". */
function runSetting(run: ReportRun): string {
  const m = run.result.meta;
  const family = typeof m.model.family === 'string' ? ` (${m.model.family})` : '';
  const steps =
    m.stepEvents === 'arrival' ? 'one step per arrival batch' : `one step per ${m.stepEvents} events`;
  return `${m.source.replace(/^dataset /, '')}, ${m.events} events of [${m.shape.join(', ')}]${family}, iid arrival, ${steps}, lr ${m.lr}, ${m.seeds} seeds`;
}

/**
 * Per batch size: BN's error and each other normalizer's with its paired difference to BN, then the
 * majority baseline; a normalizer without a row at that size is named as missing.
 */
function againstBatch(run: ReportRun, arrival: string, others: [string, string][]): string {
  const bs = sizes(run);
  if (bs.length === 0) return 'not run';
  const perBatch = bs.map((b) => {
    const bn = find(run, 'batch', arrival, b)[0];
    if (bn === undefined) return `batch ${b}: no BN result (failed or not run)`;
    const parts = others
      .filter(([n]) => run.result.meta.normalizers.includes(n))
      .map(([n, label]) => {
        const r = find(run, n, arrival, b)[0];
        return r === undefined
          ? `${label}: no result (failed or not run)`
          : `${label} ${pct(r.error)}${ci(r.errorCi95)} (${label} − BN ${pp(r.errorDiffVsBatch ?? NaN)}${ci(r.errorDiffVsBatchCi95)} pp)`;
      });
    return `batch ${b}: BN ${pct(bn.error)}${ci(bn.errorCi95)}, ${parts.join(', ')}`;
  });
  const ok = rowsOf(run);
  const base = ok.reduce((a, r) => a + r.baselineError, 0) / Math.max(1, ok.length);
  return `${perBatch.join('; ')}; majority baseline ${pct(base)}`;
}

/** What `npm run results:distributed` writes to docs/results/distributed/results.json. */
export interface DistributedResult {
  options: DistributedExperimentOptions;
  rows: DistributedRow[];
}

/**
 * The table "BatchNorm's drawbacks (the design's theory summary) → the experiment → the measured result".
 * `runs` by name: `synthetic` (windows), `mnist` (vectors), and, when they were run, `rnn`, `gnws`;
 * `distributed` when `npm run results:distributed` was run.
 */
export function drawbacksTable(runs: Map<string, ReportRun>, distributed?: DistributedResult): string {
  const syn = runs.get('synthetic');
  const mn = runs.get('mnist');
  const lines: string[] = [
    "| BatchNorm's drawback (theory summary) | the experiment | the measured result |",
    '| --- | --- | --- |',
  ];
  const small = (run: ReportRun | undefined, arrival: string): string => {
    if (run === undefined) return 'not run';
    const bs = sizes(run);
    if (bs.length === 0) return 'not run';
    return bs
      .map((b) => {
        const bn = find(run, 'batch', arrival, b)[0];
        const ln = find(run, 'layer', arrival, b)[0];
        return bn === undefined || ln === undefined
          ? `batch ${b}: no result (failed or not run)`
          : `batch ${b}: ${pairText(bn, ln, 'LN')}`;
      })
      .join('; ');
  };
  lines.push(
    `| unstable with small batches | synthetic windows, iid arrival, equal optimizer steps at every batch size, BN against LayerNorm | ${small(syn, 'iid')} |`,
  );
  const one = mn === undefined ? undefined : find(mn, 'batch', 'iid', 1)[0];
  const oneLn = mn === undefined ? undefined : find(mn, 'layer', 'iid', 1)[0];
  const policy = (name: string): string => {
    const run = runs.get(name);
    const r = run?.result.rows.find((x) => x.normalizer === 'batch' && x.batchSize === 1);
    if (r === undefined) return '';
    const p = name.replace(/^mnist-singleton-/, '');
    return r.status === 'failed'
      ? ` Policy \`${p}\`: every run fails (${r.reason}).`
      : ` Policy \`${p}\`: BN ${pct(r.error)}${ci(r.errorCi95)} (the policy acted on ${r.singleton.triggered} batches: ${r.singleton.action}).`;
  };
  lines.push(
    `| batch size 1 | MNIST vectors through an Mlp at arrival batch 1: one value per channel, so training-mode BN cannot run; policy \`${one?.singleton.policy ?? 'running-stats'}\` (and the others where run) | ${
      one === undefined || oneLn === undefined
        ? 'not run'
        : `${pairText(one, oneLn, 'LN')}; the policy acted on ${one.singleton.triggered} batches (${one.singleton.action}), so BN never used batch statistics there and predicts like a per-sample affine layer.${policy('mnist-singleton-skip')}${policy('mnist-singleton-error')} With windows a batch of one still has several values per channel after the convolution, so training-mode BN runs`
    } |`,
  );
  const gaps = (run: ReportRun | undefined): string => {
    if (run === undefined) return 'not run';
    const bn = find(run, 'batch', 'iid');
    if (bn.length === 0) return 'not run';
    return bn
      .map(
        (r) => `batch ${r.batchSize}: TV ${r.trainEvalGap.toFixed(3)}, KL ${r.trainEvalKl.toFixed(3)} nats`,
      )
      .join('; ');
  };
  lines.push(
    `| behaves differently in training and inference | the same batch predicted with batch statistics and with running statistics (iid); per-sample normalizers are 0 by construction | synthetic: ${gaps(syn)}. mnist: ${gaps(mn)} |`,
  );
  const burst = (run: ReportRun | undefined): string => {
    if (run === undefined) return 'not run';
    const arrival = run.result.meta.arrivals.find((a) => a.startsWith('bursty'));
    if (arrival === undefined) return 'not run';
    return `${arrival}: ${small(run, arrival)}`;
  };
  lines.push(
    `| unfriendly to online learning (varying, non-iid arrival) | the same events arriving in single-class runs (bursty:R), as a topic keyed by a label-correlated key delivers them | synthetic ${burst(syn)}. mnist ${burst(mn)} |`,
  );
  const speed = (run: ReportRun | undefined): string => {
    if (run === undefined) return 'not run';
    const eps = (n: string): number => {
      const r = find(run, n, 'iid');
      return r.length === 0 ? NaN : r.reduce((a, x) => a + x.eventsPerSecond, 0) / r.length;
    };
    return `BN ${eps('batch').toFixed(0)} events/s, LN ${eps('layer').toFixed(0)}, none ${eps('none').toFixed(0)} (mean over batch sizes; a shared machine, indicative only)`;
  };
  lines.push(`| costs training time | events per second of predict + learn | synthetic: ${speed(syn)} |`);
  const rnn = runs.get('rnn');
  lines.push(
    `| unfriendly to recurrent nets | ${rnn === undefined ? 'BN per time step against LayerNorm in a recurrent net' : `${runSetting(rnn)}: BN per time step (each step its own batch statistics and running estimates) against LayerNorm, and no normalizer`} | ${
      rnn === undefined
        ? 'not run in this report (`npm run results` runs it into docs/results/rnn)'
        : againstBatch(rnn, 'iid', [
            ['layer', 'LN'],
            ['none', 'none'],
          ])
    } |`,
  );
  const gnws = runs.get('gnws');
  const gnSpecs = (gnws?.result.meta.normalizers ?? []).filter((n) => /^group:\d+(\+ws)?$/.test(n));
  lines.push(
    `| alternatives: Group Norm + Weight Standardization | ${gnws === undefined ? 'group:G+ws against BN' : `${runSetting(gnws)}: ${gnSpecs.join(', ')} (Weight Standardization of the conv before the GroupNorm) against BN at small arrival batches`} | ${
      gnws === undefined
        ? 'not run in this report (`npm run results` runs it into docs/results/gnws)'
        : againstBatch(
            gnws,
            'iid',
            gnSpecs.map((n) => [n, n.endsWith('+ws') ? 'GN+WS' : 'GN']),
          )
    } |`,
  );
  lines.push(distributedLine(distributed));
  return lines.join('\n');
}

/** A distributed row's normalizer as the table names it. */
function distributedLabel(normalizer: string): string {
  if (normalizer === 'batch') return 'BN per replica';
  if (normalizer === 'syncbatch') return 'SyncBN';
  if (normalizer === 'layer') return 'LN';
  return /^group:\d+$/.test(normalizer) ? 'GN' : normalizer;
}

/** The drawbacks table's distributed row, from `npm run results:distributed` (src/experiment/distributed.ts). */
function distributedLine(d: DistributedResult | undefined): string {
  const head = '| distributed training (synchronous BN across workers) |';
  if (d === undefined)
    return `${head} per-replica BN against SyncBN on partition-skewed streams | not run in this report (\`npm run results:distributed\` runs it into docs/results/distributed) |`;
  const o = d.options;
  const experiment =
    `${o.replicas} data-parallel replicas × batch ${o.batch}, each reading one partition of a stream of ${o.events} events ` +
    `(${o.classes} Gaussian classes); skew = probability an event lands in its class's partition (0 = iid); ` +
    `${o.seeds} seeds: BN per replica, SyncBN (batch statistics over all replicas' events of the step), GN and LN ` +
    `against one process's BN at batch ${o.replicas * o.batch} (\`npm run results:distributed\`)`;
  const bySkew = o.skews.map((skew) => {
    const rows = d.rows.filter((r) => r.skew === skew);
    const reference = referenceName(o);
    const parts = rows
      .filter((r) => r.normalizer !== reference)
      .map(
        (r) =>
          `${distributedLabel(r.normalizer)} ${pct(r.error)}${ci(r.errorCi95)} (${pp(r.errorMinusReference)}${ci(r.errorMinusReferenceCi95)} pp)`,
      );
    const ref = rows.find((r) => r.normalizer === reference);
    const refText = ref === undefined ? '' : `one process ${pct(ref.error)}${ci(ref.errorCi95)}; `;
    return `skew ${skew}: ${refText}${parts.join(', ')}`;
  });
  return `${head} ${experiment} | ${bySkew.join('; ')}; in parentheses each minus the one-process BN, paired |`;
}

/** A warning when every row's error (interval included) lies above the majority-class baseline. */
function beatenByBaseline(rows: CompareRowOk[]): string {
  if (rows.length === 0) return '';
  const allWorse = rows.every((r) => r.error - (r.errorCi95 ?? 0) > r.baselineError);
  if (!allWorse) return '';
  const base = rows.reduce((a, r) => a + r.baselineError, 0) / rows.length;
  return ` Every row here errs more than always answering the majority class (${pct(base)}), intervals included: no model here beats the baseline, so read the rows for the differences between normalizers only.`;
}

/** The reading: per run and arrival order, which normalizers the intervals separate from BN, and where none does. */
export function reportReading(runs: ReportRun[]): string[] {
  const out: string[] = [];
  for (const run of runs) {
    for (const arrival of run.result.meta.arrivals) {
      const rows = rowsOf(run).filter((r) => r.arrival === arrival && r.errorDiffVsBatch !== undefined);
      const better = rows.filter((r) => verdict(r) === 'better');
      const worse = rows.filter((r) => verdict(r) === 'worse');
      const level = rows.filter((r) => verdict(r) === 'level');
      const name = (r: CompareRowOk): string =>
        `${r.normalizer} at ${r.batchSize} (${pp(r.errorDiffVsBatch as number)}${ci(r.errorDiffVsBatchCi95)} pp)`;
      out.push(
        `- **${run.name}, ${arrival}**: ` +
          (better.length === 0
            ? 'no normalizer beats BN with an interval that excludes 0'
            : `beat BN: ${better.map(name).join(', ')}`) +
          '; ' +
          (worse.length === 0
            ? 'none is worse than BN with such an interval'
            : `worse than BN: ${worse.map(name).join(', ')}`) +
          (level.length === 0 ? '.' : `; ${level.length} comparison(s) are level within their intervals.`) +
          beatenByBaseline(rowsOf(run).filter((r) => r.arrival === arrival)),
      );
    }
  }
  return out;
}

/**
 * Why, where the numbers show one of the patterns the theory predicts: the explanation is attached only when
 * the intervals show the pattern (BN worse at batches that hold one class under bursty:R and not at larger
 * ones; BN worse only at the smallest iid batch; BN at batch 1 on vectors level with the per-sample ones).
 */
export function reportWhy(runs: ReportRun[]): string[] {
  const out: string[] = [];
  for (const run of runs) {
    const rows = rowsOf(run).filter((r) => r.errorDiffVsBatch !== undefined);
    const bs = sizes(run);
    for (const arrival of run.result.meta.arrivals) {
      const mine = rows.filter((r) => r.arrival === arrival);
      const losesAt = bs.filter((b) => mine.some((r) => r.batchSize === b && verdict(r) === 'better'));
      const holdsAt = bs.filter((b) => b > 1 && !losesAt.includes(b) && mine.some((r) => r.batchSize === b));
      const bursty = /^bursty:(\d+)$/.exec(arrival);
      if (bursty !== null && losesAt.length > 0) {
        const R = Number(bursty[1]);
        const small = losesAt.filter((b) => b > 1 && b <= R);
        const big = holdsAt.filter((b) => b > R);
        if (small.length > 0)
          out.push(
            `- **${run.name}, ${arrival}**: an arrival batch of at most ${R} events holds one class, so BatchNorm normalizes each class by its own mean and variance and removes the difference the classifier needs, while inference uses running statistics over both: BN loses at batch ${small.join(', ')}` +
              (big.length > 0
                ? `; at batch ${big.join(', ')} a batch mixes several runs and BN is no longer behind (see the intervals above).`
                : '.'),
          );
      }
      if (
        arrival === 'iid' &&
        losesAt.length > 0 &&
        losesAt.every((b) => b === bs[0]) &&
        holdsAt.length > 0
      ) {
        const bn = find(run, 'batch', 'iid', bs[0])[0];
        out.push(
          `- **${run.name}, iid**: BN is behind only at the smallest batch (${bs[0]}), where its batch statistics are noisiest and predictions with batch and running statistics differ most (total variation ${bn === undefined ? '?' : fixed3(bn.trainEvalGap)}); from batch ${holdsAt[0]} up it is level or ahead.`,
        );
      }
      const one = find(run, 'batch', arrival, 1)[0];
      if (one !== undefined && one.singleton.triggered > 0) {
        const level = mine.filter((r) => r.batchSize === 1).every((r) => verdict(r) === 'level');
        out.push(
          `- **${run.name}, ${arrival}, batch 1**: one value per channel, so the \`${one.singleton.policy}\` policy trained BN on its running statistics ${one.singleton.triggered} times` +
            (level
              ? ': it then acts as a per-sample affine layer and is level with the per-sample normalizers.'
              : '.'),
        );
      }
    }
  }
  return out;
}

/** The Markdown of the README's results section (and of docs/results/README.md, with `linkBase` ''). */
export function resultsSection(
  runs: ReportRun[],
  linkBase: string,
  command: string,
  extras: ReportRun[] = [],
  distributed?: DistributedResult,
): string {
  const byName = new Map([...runs, ...extras].map((r) => [r.name, r]));
  const parts: string[] = [];
  parts.push(
    `Generated by \`${command}\` from ${[...runs, ...extras].map((r) => `\`${linkBase}${r.name}/results.json\``).join(', ')}; ` +
      'every number is a mean over seeds with its 95 % t-interval (half-width), and "A − BN" is the paired ' +
      'difference on the same seeds (negative = fewer errors than BatchNorm).',
  );
  parts.push('');
  parts.push("### BatchNorm's drawbacks → the experiment → the measured result");
  parts.push('');
  parts.push(drawbacksTable(byName, distributed));
  parts.push('');
  parts.push('### Reading (only intervals that exclude 0 count)');
  parts.push('');
  parts.push(...reportReading(runs));
  const why = reportWhy(runs);
  if (why.length > 0) {
    parts.push('');
    parts.push('Why, where the intervals show it:');
    parts.push('');
    parts.push(...why);
  }
  for (const run of runs) {
    parts.push('');
    parts.push(`### ${run.name}: ${run.description}`);
    parts.push('');
    parts.push(errorTable(run));
    parts.push('');
    parts.push(
      `![${run.name}: prequential error against arrival batch size](${linkBase}${run.name}/chart.svg)`,
    );
    parts.push('');
    parts.push(
      `![${run.name}: prequential log loss against arrival batch size](${linkBase}${run.name}/chart-loss.svg)`,
    );
    const m = run.result.meta;
    parts.push('');
    parts.push(
      `${m.events} events of shape [${m.shape.join(', ')}], ${m.classes} classes; model \`${JSON.stringify(m.model)}\`; ${m.draws}; ` +
        `${m.jobs} worker thread(s), ${m.wallSeconds.toFixed(0)} s of wall clock on a shared 2-core machine.`,
    );
  }
  return parts.join('\n') + '\n';
}

/** Replaces the text between `<!-- results:start -->` and `<!-- results:end -->`; throws when the markers are missing. */
export function replaceMarked(text: string, replacement: string): string {
  const start = '<!-- results:start -->';
  const end = '<!-- results:end -->';
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`no ${start} ... ${end} markers`);
  return `${text.slice(0, a + start.length)}\n${replacement}${text.slice(b)}`;
}
