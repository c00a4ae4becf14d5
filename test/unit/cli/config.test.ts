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
