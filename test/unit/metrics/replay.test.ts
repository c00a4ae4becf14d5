/**
 * A replay of the bundled real recording (data/sensor.jsonl: sensor windows [2, 16]) through WindowNets with
 * BatchNorm, GroupNorm and InstanceNorm, instrumented, served and linted: the "replay" mode of the catalog.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { lastValueFrom, take } from 'rxjs';
import { WindowNet, type WindowNetOptions } from '../../../src/models/nets/windowNet.js';
import {
  createRegistry,
  PipelineMetrics,
  startMetricsServer,
  type MetricsServer,
} from '../../../src/metrics/index.js';
import { decodeEvents } from '../../../src/streams/decodeEvents.js';
import { fromRecording } from '../../../src/streams/fromRecording.js';
import { instrument } from '../../../src/streams/instrument.js';
import { prequential } from '../../../src/streams/prequential.js';
import { rebatch } from '../../../src/streams/rebatch.js';
import { exposedNames, repoPath, unknownNamesSingleProcess } from './promql.js';
import { haveTool, promtool, PROMTOOL } from './tools.js';

const EVENTS = 1024;

const servers: MetricsServer[] = [];
afterEach(async () => {
  while (servers.length > 0) await servers.pop()!.close();
});

describe.runIf(haveTool(PROMTOOL))('replay of the bundled recording, instrumented', () => {
  it('counts every replayed event per variant, exposes normalizer statistics, and lints clean', async () => {
    const registry = createRegistry();
    const metrics = new PipelineMetrics(registry);
    const server = await startMetricsServer({
      registry,
      port: 0,
      readiness: () => metrics.readiness({ requireConsumer: false }),
    });
    servers.push(server);
    const net = (normalizer: WindowNetOptions['normalizer']) =>
      new WindowNet({
        inChannels: 2,
        length: 16,
        hidden: 8,
        kernel: 3,
        normalizer,
        classes: 2,
        seed: 5,
      } as never);
    const models = { bn: net('batch'), gn: net('group:2'), in: net('instance') };
    await lastValueFrom(
      fromRecording(repoPath('data/sensor.jsonl'), { speed: 'max' }).pipe(
        take(EVENTS),
        decodeEvents({ x: { kind: 'window', shape: [2, 16] }, label: { classes: 2 } }),
        rebatch({ count: 16 }),
        prequential(models),
        instrument(metrics, { mode: 'replay', modelEveryMs: 0 }),
      ),
    );
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const value = (series: string): number => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      if (line === undefined) throw new Error(`no ${series} in /metrics`);
      return Number(line.slice(series.length + 1));
    };
    let dead = 0;
    for (const l of text.split('\n'))
      if (l.startsWith('streamnorm_dead_letters_total{')) dead += Number(l.split(' ')[1]);
    for (const v of Object.keys(models)) {
      let events = 0;
      for (const outcome of ['learned', 'predicted', 'skipped', 'rejected']) {
        events += value(`streamnorm_events_total{variant="${v}",outcome="${outcome}",mode="replay"}`);
      }
      expect(events + dead, v).toBe(EVENTS);
      const loss = value(`streamnorm_prequential_loss{variant="${v}",mode="replay"}`);
      expect(Number.isFinite(loss) && loss >= 0).toBe(true);
      const error = value(`streamnorm_prequential_error_ratio{variant="${v}",mode="replay"}`);
      expect(error).toBeGreaterThanOrEqual(0);
      expect(error).toBeLessThanOrEqual(1);
    }
    // BatchNorm keeps running statistics (drift exported) and differs between training and inference;
    // GroupNorm and InstanceNorm (no running statistics here) compute the same thing in both modes.
    expect(value('streamnorm_normalizer_running_mean_drift{variant="bn",mode="replay"}')).toBeGreaterThan(0);
    expect(value('streamnorm_normalizer_train_inference_gap{variant="bn",mode="replay"}')).toBeGreaterThan(
      1e-6,
    );
    expect(value('streamnorm_normalizer_train_inference_gap{variant="gn",mode="replay"}')).toBeLessThan(
      1e-12,
    );
    expect(value('streamnorm_normalizer_train_inference_gap{variant="in",mode="replay"}')).toBeLessThan(
      1e-12,
    );
    expect(value('streamnorm_last_event_timestamp_seconds{topic="sensor",mode="replay"}')).toBeGreaterThan(
      1e9,
    );

    const lint = promtool(['check', 'metrics'], text);
    expect(lint.stdout + lint.stderr).toBe('');
    expect(lint.status).toBe(0);
    expect(unknownNamesSingleProcess(exposedNames(text))).toEqual([]);
  });
});
