import { describe, expect, it } from 'vitest';
import { configFromEnv, knownFields, resolveConfig, withDefaultPort } from '../../../src/cli/config.js';
import { closestName, didYouMean } from '../../../src/cli/suggest.js';
import { logFormat } from '../../../src/cli/logger.js';

describe('brokers', () => {
  it('a host without a port gets 9092; host:port stays', () => {
    expect(withDefaultPort('localhost')).toBe('localhost:9092');
    expect(withDefaultPort('10.1.2.3:19092')).toBe('10.1.2.3:19092');
    expect(resolveConfig({ brokers: 'localhost,kafka-2:9093' }, undefined, {}).brokers).toEqual([
      'localhost:9092',
      'kafka-2:9093',
    ]);
  });
  it('still refuses credentials in the address', () => {
    expect(() => resolveConfig({ brokers: 'user:pw@host:9092' }, undefined, {})).toThrow(/credentials/);
  });
});

describe('environment errors name the variable', () => {
  it('STREAMNORM_METRICS_PORT=abc', () => {
    expect(() => configFromEnv({ STREAMNORM_METRICS_PORT: 'abc' })).toThrow(
      /^environment: bad value for STREAMNORM_METRICS_PORT = "abc": /,
    );
  });
  it('STREAMNORM_LOG_FORMAT', () => {
    expect(logFormat({ STREAMNORM_LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(logFormat({}, true)).toBe('pretty');
    expect(logFormat({}, false)).toBe('json');
    expect(() => logFormat({ STREAMNORM_LOG_FORMAT: 'xml' }, false)).toThrow(/STREAMNORM_LOG_FORMAT/);
  });
});

describe('did-you-mean', () => {
  it('suggests close names only', () => {
    expect(closestName('lyer', ['batch', 'layer', 'group'])).toBe('layer');
    expect(closestName('transformer', ['batch', 'layer', 'group'])).toBeNull();
    expect(didYouMean('brokrs', knownFields([]))).toBe(" (did you mean 'brokers'?)");
  });
  it('knows nested config fields', () => {
    expect(knownFields(['metrics'])).toEqual(expect.arrayContaining(['port', 'host']));
  });
});

describe('checkpoint and state settings of run', () => {
  it('come from flags, the environment and the config file, flags first', () => {
    const env = {
      STREAMNORM_CHECKPOINT_INTERVAL_MS: '250',
      STREAMNORM_CHECKPOINT_KEEP: '5',
      STREAMNORM_STATE: 'kafka',
    };
    expect(configFromEnv(env)).toMatchObject({
      checkpointIntervalMs: 250,
      checkpointKeep: 5,
      state: 'kafka',
    });
    const cfg = resolveConfig({ checkpointKeep: 3, state: 'file' }, undefined, env);
    expect(cfg).toMatchObject({ checkpointIntervalMs: 250, checkpointKeep: 3, state: 'file' });
  });

  it('name the flag or the variable of a bad value', () => {
    expect(() => resolveConfig({ checkpointKeep: 1 }, undefined, {})).toThrow(/--checkpoint-keep/);
    expect(() => configFromEnv({ STREAMNORM_CHECKPOINT_INTERVAL_MS: 'soon' })).toThrow(
      /STREAMNORM_CHECKPOINT_INTERVAL_MS = "soon"/,
    );
    expect(() => configFromEnv({ STREAMNORM_STATE: 'disk' })).toThrow(/STREAMNORM_STATE/);
  });
});
