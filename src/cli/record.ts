/**
 * `streamnorm record`: a Kafka topic to a recording file (JSON Lines of `{ topic, partition, offset,
 * timestamp, key, headers?, value }`), until --max-events messages or --idle-ms without one.
 *
 * Where it reads: `--from beginning|end|OFFSET|TIME` in every recorded partition (`--partitions`, default
 * all). With `--group G` and no `--from` it resumes where the last `record --group G` stopped, and when it
 * is done (the file written and synced) it commits the next offset of each recorded partition to G.
 * Without `--group` it leaves nothing on the broker: kafkajs can only consume as a group member, so it
 * reads with a group of its own, commits nothing, and deletes that group after disconnecting (also on
 * Ctrl-C and SIGTERM).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import { createConsumer, deleteGroup, withAdmin, type Admin } from '../streams/kafka/client.js';
import { recordingLine } from '../streams/recordedMessage.js';
import { requireSetting, resolveConfig } from './config.js';
import { addKafkaOptions, kafkaPropertiesFromFlags, type KafkaFlags } from './kafkaSettings.js';
import { cliKafka } from './kafka.js';
import { createLogger, type Logger } from './logger.js';
import { positiveInt } from './options.js';
import { partitionList, startPosition, type StartPosition } from './startPosition.js';

interface RecordFlags extends KafkaFlags {
  brokers?: string;
  topic?: string;
  out: string;
  maxEvents?: number;
  idleMs: number;
  group?: string;
  from?: StartPosition;
  partitions?: number[];
  config?: string;
  logLevel?: string;
  quiet?: boolean;
}

/** Offsets are int64: compared as BigInt. */
function clamp(offset: string, low: string, high: string): string {
  const o = BigInt(offset);
  if (o < BigInt(low)) return low;
  if (o > BigInt(high)) return high;
  return offset;
}

/**
 * The offset each recorded partition starts at (`start`): from `--from`, else (with a group) the group's
 * committed offset, else the beginning. Offsets outside what the partition holds are moved to its nearest end.
 * `partitions`: every partition of the topic, recorded or not.
 */
export async function startOffsets(
  admin: Admin,
  topic: string,
  opts: { from?: StartPosition; group?: string; partitions?: number[] },
  log: Logger,
): Promise<{ start: Map<number, string>; partitions: number[] }> {
  if (!(await admin.listTopics()).includes(topic))
    throw new ConfigError(`record: topic '${topic}' does not exist`);
  const ends = await admin.fetchTopicOffsets(topic);
  const all = ends.map((e) => e.partition).sort((a, b) => a - b);
  const chosen = opts.partitions ?? all;
  const missing = chosen.filter((p) => !all.includes(p));
  if (missing.length > 0)
    throw new ConfigError(
      `--partitions: topic '${topic}' has no partition ${missing.join(', ')} (it has ${all.join(', ')})`,
    );
  const range = new Map(ends.map((e) => [e.partition, { low: e.low, high: e.high }]));
  let wanted: Map<number, string>;
  const from = opts.from ?? (opts.group === undefined ? { kind: 'beginning' as const } : undefined);
  if (from === undefined) {
    const [committed] = await admin.fetchOffsets({ groupId: opts.group!, topics: [topic] });
    const byPartition = new Map((committed?.partitions ?? []).map((p) => [p.partition, p.offset]));
    wanted = new Map(
      chosen.map((p) => {
        const c = byPartition.get(p);
        return [p, c === undefined || c === '-1' ? range.get(p)!.low : c];
      }),
    );
  } else if (from.kind === 'timestamp') {
    const at = await admin.fetchTopicOffsetsByTimestamp(topic, from.ms);
    const byPartition = new Map(at.map((a) => [a.partition, a.offset]));
    wanted = new Map(chosen.map((p) => [p, byPartition.get(p) ?? range.get(p)!.high]));
  } else {
    wanted = new Map(
      chosen.map((p) => {
        const r = range.get(p)!;
        return [p, from.kind === 'beginning' ? r.low : from.kind === 'end' ? r.high : from.offset];
      }),
    );
  }
  const out = new Map<number, string>();
  for (const [p, o] of wanted) {
    const r = range.get(p)!;
    const c = clamp(o, r.low, r.high);
    if (c !== o)
      log.warn(
        { topic, partition: p, offset: o, low: r.low, high: r.high, start: c },
        'record: offset outside the partition, starting at its nearest end',
      );
    out.set(p, c);
  }
  return { start: out, partitions: all };
}

export function registerRecord(program: Command): void {
  addKafkaOptions(program.command('record'))
    .description('record a Kafka topic to a JSON Lines file that replay and compare read')
    .option('--brokers <list>', 'Kafka brokers host:port[,host:port] (or KAFKA_BROKERS)')
    .option('--topic <topic>', 'topic to record (or STREAMNORM_TOPIC)')
    .requiredOption('--out <file>', 'recording file to write (replaced)')
    .option(
      '--from <position>',
      'where to start in each partition: beginning, end, an OFFSET, or a TIME (ISO-8601 or epoch ms; a bare integer >= 10^12 is a time; offset:N and time:T say which) (default: beginning, or where --group stopped)',
      startPosition,
    )
    .option('--partitions <list>', 'record only these partitions, e.g. 0,2 (default: all)', partitionList)
    .option(
      '--group <id>',
      'resume from and commit to this consumer group (default: none, and no group is left on the broker)',
    )
    .option('--max-events <n>', 'stop after n messages', positiveInt)
    .option('--idle-ms <ms>', 'stop after this long without a message', positiveInt, 5000)
    .option('--config <file>', 'config file (YAML or JSON)')
    .option('--log-level <level>', 'fatal | error | warn | info | debug | silent')
    .option('--quiet', 'no summary line on stdout')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  streamnorm record --topic events --out rec.jsonl --from 2026-12-05T18:00:00Z --partitions 0,2\n' +
        '  streamnorm record --topic events --out part-2.jsonl --group nightly-recorder\n',
    )
    .action(async (flags: RecordFlags) => {
      const cfg = resolveConfig(
        {
          brokers: flags.brokers,
          topic: flags.topic,
          logLevel: flags.logLevel as never,
          kafka: kafkaPropertiesFromFlags(flags),
        },
        flags.config,
      );
      const log = createLogger(cfg.logLevel ?? 'info');
      const brokers = requireSetting(cfg.brokers, '--brokers', 'brokers', 'KAFKA_BROKERS');
      const topic = requireSetting(cfg.topic, '--topic', 'topic', 'STREAMNORM_TOPIC');
      const kafka = await cliKafka(brokers, log, undefined, cfg.kafka);
      const { start, partitions } = await withAdmin(kafka, (admin) =>
        startOffsets(
          admin,
          topic,
          { from: flags.from, group: flags.group, partitions: flags.partitions },
          log,
        ),
      );
      await mkdir(dirname(flags.out), { recursive: true });
      const out = createWriteStream(flags.out, { flags: 'w' });
      await new Promise<void>((resolve, reject) => {
        out.once('open', () => resolve());
        out.once('error', reject);
      });
      const ownGroup = flags.group === undefined;
      const groupId = flags.group ?? `streamnorm-record-${process.pid}-${randomBytes(6).toString('hex')}`;
      const consumer = createConsumer(kafka, { groupId });
      /** Next offset to read per recorded partition: where the group resumes. */
      const next = new Map(start);
      const positioned = new Set<number>();
      let count = 0;
      let done = false;
      let lastAt = Date.now();
      let finish!: () => void;
      let fail!: (err: unknown) => void;
      const finished = new Promise<void>((resolve, reject) => {
        finish = () => {
          done = true;
          resolve();
        };
        fail = reject;
      });
      const onSignal = (): void => finish();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (!payload.restart) fail(payload.error);
      });
      const started = Date.now();
      let idle: NodeJS.Timeout | undefined;
      let connected = false;
      let failed = false;
      try {
        await consumer.connect();
        connected = true;
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          eachBatch: async ({ batch, resolveOffset }) => {
            const p = batch.partition;
            const from = start.get(p);
            if (from === undefined || done || batch.messages.length === 0) return;
            if (!positioned.has(p)) {
              // the first fetch of a partition starts where the group would; move it to --from's offset
              positioned.add(p);
              if (batch.messages[0].offset !== from) {
                consumer.seek({ topic, partition: p, offset: from });
                return;
              }
            }
            let text = '';
            let last: string | null = null;
            for (const m of batch.messages) {
              if (flags.maxEvents !== undefined && count >= flags.maxEvents) break;
              if (BigInt(m.offset) < BigInt(next.get(p)!)) continue;
              text +=
                recordingLine({
                  origin: {
                    topic: batch.topic,
                    partition: p,
                    offset: m.offset,
                    timestamp: Number(m.timestamp),
                  },
                  key: m.key === null ? null : m.key.toString(),
                  value: m.value ?? Buffer.alloc(0),
                  headers: m.headers,
                  receivedAt: Date.now(),
                }) + '\n';
              last = m.offset;
              count++;
            }
            if (text.length > 0 && !out.write(text))
              await new Promise<void>((r) => out.once('drain', () => r()));
            if (last !== null) {
              next.set(p, (BigInt(last) + 1n).toString());
              resolveOffset(last);
            }
            lastAt = Date.now();
            if (flags.maxEvents !== undefined && count >= flags.maxEvents) finish();
          },
        });
        const others = partitions.filter((p) => !start.has(p));
        if (others.length > 0) consumer.pause([{ topic, partitions: others }]);
        idle = setInterval(
          () => {
            if (Date.now() - lastAt >= flags.idleMs) finish();
          },
          Math.min(250, flags.idleMs),
        );
        await finished;
      } catch (err) {
        failed = true;
        throw err;
      } finally {
        clearInterval(idle);
        process.removeListener('SIGINT', onSignal);
        process.removeListener('SIGTERM', onSignal);
        if (connected) await consumer.disconnect().catch(() => undefined);
        await new Promise<void>((resolve, reject) =>
          out.end((err?: Error | null) => (err ? reject(err) : resolve())),
        );
        // a failure to delete the group must not hide the failure that ended the recording
        if (ownGroup && connected)
          await deleteGroup(kafka, groupId, 'record').catch((err: unknown) => {
            if (!failed) throw err;
            log.warn({ groupId, err }, 'record: could not delete its consumer group');
          });
      }
      // the file is whole and on disk before the group says it was read
      const fh = await open(flags.out, 'r');
      await fh.sync();
      await fh.close();
      if (!ownGroup)
        await withAdmin(kafka, (admin) =>
          admin.setOffsets({
            groupId,
            topic,
            partitions: [...next].map(([partition, offset]) => ({ partition, offset })),
          }),
        );
      log.info(
        {
          topic,
          out: flags.out,
          messages: count,
          group: flags.group,
          seconds: (Date.now() - started) / 1000,
        },
        'record finished',
      );
      if (!flags.quiet) process.stdout.write(`recorded ${count} messages from ${topic} to ${flags.out}\n`);
    });
}
