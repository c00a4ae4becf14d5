/**
 * One name per concept across the subcommands. The canonical flags are added here to the commands that
 * declared an older name, whose option stays (for one release) as a deprecated alias: using it prints a warning
 * naming the replacement. `--bootstrap-server` (as Kafka's own tools say) is an alias of `--brokers` everywhere.
 */
import { Option, type Command } from 'commander';
import { ConfigError } from '../errors.js';
import { warnDeprecated } from './options.js';

interface Rename {
  /** Subcommand name. */
  command: string;
  /** The older flag (long name), kept as a deprecated alias. */
  old: string;
  /** The canonical flag (long name). */
  canonical: string;
  /** Whether the old one prints a deprecation warning (false: a plain alias). */
  deprecated: boolean;
}

/** The concepts and their one name: `--variants` (model variants), `--max-events` (stop after n). */
export const RENAMES: readonly Rename[] = [
  { command: 'run', old: '--variant', canonical: '--variants', deprecated: true },
  { command: 'compare', old: '--normalizers', canonical: '--variants', deprecated: true },
  { command: 'main', old: '--normalizers', canonical: '--variants', deprecated: true },
  ...['run', 'record', 'produce'].map((command) => ({
    command,
    old: '--brokers',
    canonical: '--bootstrap-server',
    deprecated: false,
  })),
];

function attr(long: string): string {
  return long.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Adds the canonical flags and wires the aliases: the value of whichever is given lands where the command reads
 * it (the older attribute), and giving both with different values is a usage error.
 */
export function applyFlagAliases(program: Command): void {
  for (const r of RENAMES) {
    const cmd = program.commands.find((c) => c.name() === r.command);
    const old = cmd?.options.find((o) => o.long === r.old);
    if (cmd === undefined || old === undefined || cmd.options.some((o) => o.long === r.canonical)) continue;
    const arg = old.flags.slice(old.flags.indexOf(r.old) + r.old.length).trim();
    if (r.deprecated) {
      cmd.addOption(new Option(`${r.canonical} ${arg}`.trim(), old.description));
      old.description = `deprecated: use ${r.canonical}`;
    } else {
      cmd.addOption(new Option(`${r.canonical} ${arg}`.trim(), `same as ${r.old}`));
    }
    cmd.hook('preAction', (_this, action) => {
      const opts = action.opts<Record<string, unknown>>();
      const given = opts[attr(r.canonical)];
      const before = opts[attr(r.old)];
      const oldFromCli = action.getOptionValueSource(attr(r.old)) === 'cli';
      if (r.deprecated && oldFromCli) warnDeprecated(r.old, r.canonical);
      if (given === undefined) return;
      if (oldFromCli && before !== given)
        throw new ConfigError(`${r.old} and ${r.canonical} name the same setting; give one`);
      action.setOptionValueWithSource(attr(r.old), given, 'cli');
    });
  }
}
