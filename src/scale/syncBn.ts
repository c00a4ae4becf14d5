/**
 * `streamnorm run --sync-bn`: synchronized BatchNorm across the replicas of a consumer group (issue 11). Every
 * BatchNorm layer of every variant pools its training statistics with the other members of the group's current
 * generation, so N replicas that each learn a batch of b events normalize as one BatchNorm over N·b events would
 * (Ioffe & Szegedy 2015; PyTorch's `SyncBatchNorm`); partitions with different distributions no longer give each
 * replica its own idea of the activations' mean and variance.
 *
 * The models are synchronous (a learning step runs to its end without yielding), so each layer gets a blocking
 * {@link StatisticsReducer}: it hands its contribution to a worker thread (syncBnWorker.ts: its own Kafka client,
 * the coordination of syncBnCoordinator.ts) and sleeps in `Atomics.wait` until the pooled statistics are back or
 * `timeoutMs` has passed (then the layer normalizes with its local statistics, counted as `local_fallback`). The
 * reducers are attached around each learning call, to the layers the model has then: a replica that folds its
 * peers' deltas replaces its models, and a net restores its normalizers from snapshots.
 */
import type { Worker } from 'node:worker_threads';
import type { Registry } from 'prom-client';
import { siblingModule, startModuleWorker } from '../core/moduleWorker.js';
import type { OnlineModel } from '../models/types.js';
import type { ClientOptions, StreamLogger } from '../streams/kafka/client.js';
import { EXCHANGE_RETENTION_MS } from './kafkaExchange.js';
import type { SyncPhase } from './stepExchange.js';
import { CTRL, SLOT_CAPACITY, blockingCall, slotBuffer, slotViews } from './syncBnSlot.js';
import { withLayerReducers, type LayerReducer } from './syncBnModels.js';
import { syncBnMetrics, type SyncBnMetrics, type SyncBnStepOutcome } from './syncBnMetrics.js';
import type { FromWorker, SyncBnWorkerData, ToWorker } from './syncBnWorker.js';

/** Default `--sync-bn-timeout-ms`: how long a step waits for its peers before it uses local statistics. */
export const SYNC_BN_TIMEOUT_MS = 2000;
/** Default `--sync-bn-idle-ms`: a replica whose learner asked nothing for this long stands in with count-0 steps. */
export const SYNC_BN_IDLE_MS = 100;

export interface SyncBnOptions {
  /** Connection settings of the worker's own Kafka client (run's brokers, TLS, SASL, client id). */
  client: Omit<ClientOptions, 'logger'>;
  /** The learner's consumer group: its members are the roster. */
  groupId: string;
  /** Default `<group>-syncbn` (characters Kafka refuses in topic names become `_`). */
  topic?: string;
  timeoutMs?: number;
  idleMs?: number;
  registry?: Registry;
  logger?: StreamLogger;
}

/** The topic of a group's synchronized BatchNorm exchange. */
export function syncBnTopic(groupId: string): string {
  return `${groupId.replace(/[^A-Za-z0-9._-]/g, '_')}-syncbn`;
}

/** One BatchNorm layer's reducer: blocking, through the worker. */
class BlockingReducer implements LayerReducer {
  /** The forward of the open step fell back (its backward then does not wait either). */
  private fellBack = false;
  private alone = false;
  /** A forward was pooled (or fell back) and its backward has not run. */
  open = false;

  constructor(
    private readonly sync: SyncBn,
    readonly channel: string,
  ) {}

  poolMoments(local: Float64Array): Float64Array {
    if (this.open) this.close();
    this.open = true;
    const a = this.sync.call(this.channel, 'forward', local, true);
    this.fellBack = a === null;
    this.alone = a?.outcome === 'alone';
    return a?.pooled ?? local;
  }

  poolGradients(local: Float64Array): Float64Array {
    this.open = false;
    if (this.fellBack) {
      // The peers that pooled this replica's moments still get its sums.
      this.sync.call(this.channel, 'backward', local, false);
      this.sync.count('local_fallback');
      return local;
    }
    const a = this.sync.call(this.channel, 'backward', local, true);
    this.sync.count(a === null ? 'local_fallback' : this.alone ? 'alone' : 'pooled');
    return a?.pooled ?? local;
  }

  /** The step's backward will not run (a rejected step): the peers are owed count 0. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    this.sync.abandon(this.channel);
    this.sync.count(this.fellBack ? 'local_fallback' : this.alone ? 'alone' : 'pooled');
  }
}

export class SyncBn {
  private readonly views: ReturnType<typeof slotViews>;
  private nextId = 0;
  private dead = false;
  private readonly reducers = new Map<string, BlockingReducer>();
  private readonly metrics: SyncBnMetrics | null;
  private closed: Promise<void> | null = null;

  private constructor(
    private readonly worker: Worker,
    sab: SharedArrayBuffer,
    private readonly timeoutMs: number,
    private readonly logger: StreamLogger | undefined,
    registry: Registry | undefined,
  ) {
    this.views = slotViews(sab);
    this.metrics =
      registry === undefined
        ? null
        : syncBnMetrics(registry, {
            shadows: () => Atomics.load(this.views.ctrl, CTRL.SHADOWS),
            roster: () => Atomics.load(this.views.ctrl, CTRL.ROSTER),
          });
  }

  /** Starts the worker and resolves once it reads the exchange topic (before the learner joins its group). */
  static async start(o: SyncBnOptions): Promise<SyncBn> {
    const timeoutMs = o.timeoutMs ?? SYNC_BN_TIMEOUT_MS;
    const idleMs = o.idleMs ?? SYNC_BN_IDLE_MS;
    const sab = slotBuffer();
    const worker = startModuleWorker(siblingModule(import.meta.url, 'syncBnWorker'), {
      client: o.client,
      topic: o.topic ?? syncBnTopic(o.groupId),
      groupId: o.groupId,
      timeoutMs,
      idleMs,
      retentionMs: EXCHANGE_RETENTION_MS,
      sab,
    } satisfies SyncBnWorkerData);
    // The learner waits a little longer than the worker's own timer, which answers first in the normal case.
    const s = new SyncBn(worker, sab, timeoutMs + 250, o.logger, o.registry);
    await new Promise<void>((resolve, reject) => {
      const onExit = (code: number): void =>
        reject(new Error(`sync-bn worker exited (code ${code}) before it was ready`));
      worker.once('exit', onExit);
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          worker.off('exit', onExit);
          resolve();
        }
      });
      worker.once('error', reject);
    });
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'warn') o.logger?.warn({}, m.message);
      else if (m.type === 'roster')
        o.logger?.info({ generation: m.gen, members: m.members }, 'sync-bn roster');
    });
    worker.on('exit', () => (s.dead = true));
    worker.on('error', (err) => o.logger?.warn({ err: err.message }, 'sync-bn worker failed'));
    return s;
  }

  /** The learner's consumer joined a generation (the source's onGroupJoin): the roster changes. */
  onGroupJoin(info: { memberId: string; generationId: number }): void {
    this.send({ type: 'join', memberId: info.memberId, generationId: info.generationId });
  }

  /**
   * The variants as the pipeline uses them: each learning call attaches this replica's reducers to the model's
   * BatchNorm layers (channel `<variant>/<layer index>`) for its duration.
   */
  wrap(models: Record<string, OnlineModel>): Record<string, OnlineModel> {
    return withLayerReducers(models, (channel) => {
      let r = this.reducers.get(channel);
      if (r === undefined) {
        r = new BlockingReducer(this, channel);
        this.reducers.set(channel, r);
      }
      return r;
    });
  }

  /** @internal One exchange: blocks until the pooled array (null: use the local one). */
  call(
    channel: string,
    phase: SyncPhase,
    local: Float64Array,
    wait: boolean,
  ): { pooled: Float64Array; outcome: 'pooled' | 'alone' } | null {
    if (this.dead || this.closed !== null || local.length > SLOT_CAPACITY) return null;
    this.nextId = (this.nextId % 0x3fffffff) + 1;
    const id = this.nextId;
    const msg: ToWorker = { type: 'request', id, channel, phase, part: local, wait };
    if (!wait) {
      this.worker.postMessage(msg);
      return null;
    }
    const a = blockingCall(this.views, id, () => this.worker.postMessage(msg), this.timeoutMs);
    this.metrics?.waited(a.waitedMs);
    if (a.outcome === 'fallback' || a.pooled === null) return null;
    return { pooled: a.pooled, outcome: a.outcome };
  }

  /** @internal */
  abandon(channel: string): void {
    if (!this.dead && this.closed === null) this.send({ type: 'abandon', channel });
  }

  /** @internal */
  count(outcome: SyncBnStepOutcome): void {
    this.metrics?.step(outcome);
  }

  private send(m: ToWorker): void {
    if (!this.dead) this.worker.postMessage(m);
  }

  /** Says goodbye to the peers (they stop waiting for this replica), disconnects and stops the worker (≤ 5 s). */
  close(): Promise<void> {
    this.closed ??= (async () => {
      if (this.dead) return;
      const closed = new Promise<void>((resolve) => {
        this.worker.on('message', (m: FromWorker) => m.type === 'closed' && resolve());
        this.worker.once('exit', () => resolve());
      });
      this.worker.postMessage({ type: 'close' } satisfies ToWorker);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closed, new Promise<void>((r) => (timer = setTimeout(r, 5000)))]);
      clearTimeout(timer);
      await this.worker.terminate();
      this.logger?.info({}, 'sync-bn stopped');
    })();
    return this.closed;
  }
}
