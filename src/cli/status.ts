/**
 * `streamnorm status --brokers B --group G [--json]`: the replicas of a scale-out group (`run --state kafka`),
 * read from its state topic: owned partitions, events learned, staleness (docs/scale-out.md).
 */
import type { Command } from 'commander';
import { readGroupStatus } from '../scale/groupStatus.js';
import { scaleTopics } from '../scale/scaleOut.js';
import { requireSetting, resolveConfig } from './config.js';
import { addKafkaOptions, kafkaPropertiesFromFlags, type KafkaFlags } from './kafkaSettings.js';
import { cliKafka } from './kafka.js';
import { createLogger } from './logger.js';

interface StatusFlags extends KafkaFlags {
  brokers?: string;
  group?: string;
  stateTopic?: string;
  json?: boolean;
  config?: string;
  logLevel?: string;
}

export function registerStatus(program: Command): void {
  addKafkaOptions(program.command('status'))
    .description(
      'show the replicas of a scale-out group (run --state kafka): partitions, events learned, staleness',
    )
    .option('--brokers <list>', 'Kafka brokers host:port[,host:port] (or KAFKA_BROKERS)')
    .option('--group <id>', 'consumer group id (or STREAMNORM_GROUP)')
    .option('--state-topic <topic>', 'state topic (default <group>-state)')
    .option(
      '--json',
      'print { "replicas": [{ "id", "partitions", "eventsLearned", "stalenessMs" }], "eventsLearned" }',
    )
    .option('--config <file>', 'config file (YAML or JSON)')
    .option('--log-level <level>', 'fatal | error | warn | info | debug | silent')
    .action(async (flags: StatusFlags) => {
      const cfg = resolveConfig(
        {
          brokers: flags.brokers,
          group: flags.group,
          logLevel: flags.logLevel as never,
          kafka: kafkaPropertiesFromFlags(flags),
        },
        flags.config,
      );
      const log = createLogger(cfg.logLevel ?? 'warn');
      const brokers = requireSetting(cfg.brokers, '--brokers', 'brokers', 'KAFKA_BROKERS');
      const group = requireSetting(cfg.group, '--group', 'group', 'STREAMNORM_GROUP');
      const kafka = await cliKafka(brokers, log, undefined, cfg.kafka);
      const status = await readGroupStatus(kafka, flags.stateTopic ?? scaleTopics(group).stateTopic);
      if (flags.json) {
        process.stdout.write(JSON.stringify(status) + '\n');
        return;
      }
      const rows = status.replicas.map((r) => [
        r.id,
        r.partitions.join(',') || '-',
        String(r.eventsLearned),
        String(r.stalenessMs),
      ]);
      const head = ['replica', 'partitions', 'events learned', 'staleness ms'];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
      const line = (cells: string[]): string =>
        cells
          .map((c, i) => c.padEnd(widths[i]))
          .join('  ')
          .trimEnd();
      process.stdout.write(
        [
          line(head),
          line(widths.map((w) => '-'.repeat(w))),
          ...rows.map(line),
          `${status.eventsLearned} events learned by ${status.replicas.length} replicas`,
        ].join('\n') + '\n',
      );
    });
}
