/**
 * deploy/docker-compose.yml runs as `docker compose up --scale streamnorm=3` (issue 11). No Docker engine
 * here, so the structure is checked by parsing it: what would stop three replicas from starting or from being
 * one model (a fixed container name, one host port for all, local checkpoints, a one-partition topic).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { repoPath } from './promql.js';

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  container_name?: string;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
}

const compose = parseYaml(readFileSync(repoPath('deploy/docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
};
const svc = compose.services.streamnorm;
const cmd = svc.command ?? [];
const flag = (args: string[], name: string): string | undefined => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
};

describe('docker compose --scale streamnorm=3', () => {
  it('runs `run` as a replica of one model, state in Kafka, in one consumer group', () => {
    expect(cmd[0]).toBe('run');
    expect(flag(cmd, '--state')).toBe('kafka');
    expect(flag(cmd, '--group')).toBeTruthy();
    expect(flag(cmd, '--metrics-host')).toBe('0.0.0.0');
    // local checkpoints would be one directory per container (or one shared by all): neither is one model
    expect(cmd).not.toContain('--checkpoint-dir');
    expect(svc.volumes ?? []).toEqual([]);
  });

  it('can make more than one container: no fixed name, one host port per replica, on 127.0.0.1', () => {
    expect(svc.container_name).toBeUndefined();
    expect(svc.deploy?.replicas ?? 1).toBeGreaterThanOrEqual(1);
    const published = (svc.ports ?? []).map((p) => /^127\.0\.0\.1:(\d+)(?:-(\d+))?:9464$/.exec(p));
    expect(published).toHaveLength(1);
    const m = published[0];
    expect(m, String(svc.ports)).not.toBeNull();
    const from = Number(m![1]);
    const to = Number(m![2] ?? m![1]);
    expect(to - from + 1).toBeGreaterThanOrEqual(3);
    expect(from).toBe(9464);
  });

  it('the input topic exists with a partition for each of 3 replicas before they start', () => {
    const topics = Object.entries(compose.services).find(
      ([, s]) => s.command?.some((c) => c.endsWith('kafka-topics.sh')) && s.command.includes('--create'),
    );
    expect(topics).toBeDefined();
    const [name, job] = topics!;
    expect(flag(job.command!, '--topic')).toBe(flag(cmd, '--topic'));
    expect(Number(flag(job.command!, '--partitions'))).toBeGreaterThanOrEqual(3);
    expect(svc.depends_on?.[name]?.condition).toBe('service_completed_successfully');
    expect(svc.depends_on?.kafka?.condition).toBe('service_healthy');
  });

  it('Prometheus scrapes every replica, not one address', () => {
    const prom = parseYaml(readFileSync(repoPath('deploy/prometheus/prometheus.compose.yml'), 'utf8')) as {
      scrape_configs: {
        job_name: string;
        static_configs?: unknown;
        dns_sd_configs?: { names: string[] }[];
      }[];
    };
    const job = prom.scrape_configs.find((j) => j.job_name === 'streamnorm')!;
    expect(job.static_configs).toBeUndefined();
    expect(job.dns_sd_configs?.[0].names).toEqual(['streamnorm']);
  });

  it('every named volume a service mounts is declared, and none is left unused', () => {
    const declared = Object.keys(compose.volumes ?? {});
    const used = Object.values(compose.services).flatMap((s) =>
      (s.volumes ?? [])
        .map((v) => v.split(':')[0])
        .filter((src) => !src.startsWith('.') && !src.startsWith('/')),
    );
    expect([...new Set(used)].sort()).toEqual([...declared].sort());
  });
});
