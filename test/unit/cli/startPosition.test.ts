import { describe, expect, it } from 'vitest';
import { partitionList, startPosition } from '../../../src/cli/startPosition.js';

describe('record --from', () => {
  it('names beginning and end (and Kafka tools’ earliest/latest)', () => {
    expect(startPosition('beginning')).toEqual({ kind: 'beginning' });
    expect(startPosition('earliest')).toEqual({ kind: 'beginning' });
    expect(startPosition('end')).toEqual({ kind: 'end' });
    expect(startPosition('latest')).toEqual({ kind: 'end' });
  });

  it('reads a small integer as an offset and a 13-digit one as epoch milliseconds', () => {
    expect(startPosition('0')).toEqual({ kind: 'offset', offset: '0' });
    expect(startPosition('42')).toEqual({ kind: 'offset', offset: '42' });
    expect(startPosition('999999999999')).toEqual({ kind: 'offset', offset: '999999999999' });
    expect(startPosition('1764957600000')).toEqual({ kind: 'timestamp', ms: 1764957600000 });
  });

  it('takes explicit offset: and time: forms', () => {
    expect(startPosition('offset:1764957600000')).toEqual({ kind: 'offset', offset: '1764957600000' });
    expect(startPosition('time:5')).toEqual({ kind: 'timestamp', ms: 5 });
    expect(startPosition('time:2026-12-05T18:00:00Z')).toEqual({
      kind: 'timestamp',
      ms: Date.UTC(2026, 11, 5, 18),
    });
  });

  it('reads ISO-8601 times, with or without a zone', () => {
    expect(startPosition('2026-12-05T18:00:00.250Z')).toEqual({
      kind: 'timestamp',
      ms: Date.UTC(2026, 11, 5, 18, 0, 0, 250),
    });
    expect(startPosition('2026-12-05T19:00:00+01:00')).toEqual({
      kind: 'timestamp',
      ms: Date.UTC(2026, 11, 5, 18),
    });
    expect(startPosition('2026-12-05')).toEqual({ kind: 'timestamp', ms: Date.UTC(2026, 11, 5) });
  });

  it('refuses anything else with the accepted forms in the message', () => {
    for (const bad of ['', 'start', '-1', 'offset:-3', 'offset:x', 'March 7', '2026-13-45', '1.5'])
      expect(() => startPosition(bad), bad).toThrow(/expected|not a valid date/);
  });
});

describe('record --partitions', () => {
  it('takes distinct partition numbers, sorted', () => {
    expect(partitionList('2,0')).toEqual([0, 2]);
    expect(partitionList('1, 1')).toEqual([1]);
  });
  it('refuses negative, empty or non-numeric entries', () => {
    for (const bad of ['', '0,', '-1', 'a', '1.5']) expect(() => partitionList(bad), bad).toThrow(/expected/);
  });
});
