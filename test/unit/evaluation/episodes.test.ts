import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { anomalyEpisodes, episodeScores } from '../../../src/evaluation/index.js';

describe('anomaly episodes', () => {
  it('are maximal runs of anomalous events', () => {
    const eps = anomalyEpisodes([0, 1, 1, 0, 0, 1, 0, 1]);
    expect(eps).toEqual([
      { start: 1, end: 2, events: [1, 2] },
      { start: 5, end: 5, events: [5] },
      { start: 7, end: 7, events: [7] },
    ]);
    expect(anomalyEpisodes([0, 0, 0])).toEqual([]);
    expect(anomalyEpisodes([])).toEqual([]);
  });

  it('with keys, form within each key: interleaved devices do not split or merge each other', () => {
    //            a  b  a  b  a  b  a
    const labels = [1, 1, 1, 0, 0, 1, 1];
    const keys = ['a', 'b', 'a', 'b', 'a', 'b', 'a'];
    expect(anomalyEpisodes(labels, { keys })).toEqual([
      { key: 'a', start: 0, end: 2, events: [0, 2] },
      { key: 'b', start: 1, end: 1, events: [1] },
      { key: 'b', start: 5, end: 5, events: [5] },
      { key: 'a', start: 6, end: 6, events: [6] },
    ]);
  });

  it('maxGap lets short normal stretches inside an episode', () => {
    expect(anomalyEpisodes([1, 0, 1, 0, 0, 1], { maxGap: 1 }).map((e) => e.events)).toEqual([[0, 2], [5]]);
    expect(anomalyEpisodes([1, 0, 1, 0, 0, 1], { maxGap: 2 }).map((e) => e.events)).toEqual([[0, 2, 5]]);
  });

  it('every anomalous event belongs to exactly one episode (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1 }), { maxLength: 60 }),
        fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 60, maxLength: 60 }),
        fc.integer({ min: 0, max: 3 }),
        (labels, allKeys, maxGap) => {
          const keys = allKeys.slice(0, labels.length);
          const eps = anomalyEpisodes(labels, { keys, maxGap });
          const covered = eps.flatMap((e) => e.events).sort((a, b) => a - b);
          const positives = labels.flatMap((y, i) => (y === 1 ? [i] : []));
          expect(covered).toEqual(positives);
          for (const e of eps) expect(e.events.every((i) => keys[i] === e.key)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('episode scores', () => {
  it('count an episode as detected when any of its events is flagged, and false alarms per 1,000 events', () => {
    const s = episodeScores([0, 1, 1, 0, 0, 1, 0], [0, 0, 1, 0, 1, 0, 0]);
    expect(s.episodes).toBe(2);
    expect(s.detected).toBe(1);
    expect(s.episodeRecall).toBe(0.5);
    expect(s.falseAlarms).toBe(1);
    expect(s.falseAlarmsPer1000).toBeCloseTo(1000 / 7, 12);
    expect(s.detectionDelays).toEqual([1]);
    expect(s.detail.map((e) => e.detected)).toEqual([true, false]);
  });

  it('one long episode found by a single flag scores full recall, where per-event recall would be 1/75', () => {
    const labels = [...new Array<number>(925).fill(0), ...new Array<number>(75).fill(1)];
    const flags = labels.map((_, i) => (i === 960 || i === 10 || i === 11 ? 1 : 0));
    const s = episodeScores(labels, flags);
    expect([s.episodes, s.detected, s.episodeRecall]).toEqual([1, 1, 1]);
    expect(s.falseAlarmsPer1000).toBe(2);
    expect(s.detectionDelays).toEqual([35]);
  });

  it('always-normal scores recall 0 and no false alarms; always-anomalous recall 1 and every normal event an alarm', () => {
    const labels = [0, 1, 0, 0, 1, 1, 0, 0];
    expect(episodeScores(labels, new Array<number>(8).fill(0))).toMatchObject({
      episodeRecall: 0,
      falseAlarms: 0,
    });
    expect(episodeScores(labels, new Array<boolean>(8).fill(true))).toMatchObject({
      episodeRecall: 1,
      falseAlarms: 5,
      falseAlarmsPer1000: 625,
    });
  });

  it('recall is NaN without episodes; bad inputs are ConfigErrors naming the field', () => {
    expect(episodeScores([0, 0], [0, 1]).episodeRecall).toBeNaN();
    expect(episodeScores([], []).falseAlarmsPer1000).toBeNaN();
    expect(() => episodeScores([0, 1], [0])).toThrow(/1 flags for 2 labels/);
    expect(() => episodeScores([0, 2], [0, 0])).toThrow(ConfigError);
    expect(() => episodeScores([0, 1], [0, 0.5])).toThrow(/flags\[1\]/);
    expect(() => anomalyEpisodes([1], { maxGap: -1 })).toThrow(/maxGap/);
    expect(() => anomalyEpisodes([1, 0], { keys: ['a'] })).toThrow(/1 keys for 2 labels/);
  });
});
