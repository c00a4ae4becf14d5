import { describe, expect, it } from 'vitest';
import { EpisodeTally, episodeIndex } from '../../../src/experiment/episodeTally.js';
import { episodeScores } from '../../../src/evaluation/episodes.js';
import { Rng } from '../../../src/core/rng.js';
import type { StreamEvent } from '../../../src/streams/event.js';

/** Two keys interleaved: key a has anomalies at its events 1–2 and 5, key b at its event 3. */
const labels = [0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0];
const keys = ['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b', 'a', 'b', 'a', 'b'];
const events: StreamEvent[] = labels.map((y, i) => ({ id: `e${i}`, ts: i, x: [0], y, key: keys[i] }));

describe('episodeIndex: episodes of the recorded order, by key', () => {
  it('maps each anomalous event to its episode and leaves normal events out', () => {
    const idx = episodeIndex(events);
    // key a: events 0,2,4,6,8,10 → labels 0,0,1,0,0,1 → episodes [4] and [10]
    // key b: events 1,3,5,7,9,11 → labels 1,0,0,1,0,0 → episodes [1] and [7]
    expect(idx.count).toBe(4);
    expect(idx.ofEvent.get('e0')).toBeUndefined();
    expect(new Set([1, 4, 7, 10].map((i) => idx.ofEvent.get(`e${i}`))).size).toBe(4);
    expect(idx.ofEvent.get('e1')).toBe(0);
  });
});

describe('EpisodeTally: the same counts as episodeScores, in any arrival order', () => {
  it('on a known case', () => {
    const flags = [0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1];
    const t = new EpisodeTally(episodeIndex(events));
    events.forEach((e, i) => t.observe(e.id, e.y as number, flags[i] === 1));
    const want = episodeScores(labels, flags, { keys });
    // detected: [1] (flag at 1) and [10]; false alarms at 2 and 11
    expect(want.detected).toBe(2);
    expect(t.result()).toEqual({ episodes: 4, detected: 2, falseAlarms: 2, events: 12 });
    expect(t.result().falseAlarms).toBe(want.falseAlarms);
  });

  it('a shuffled arrival order changes nothing (episodes belong to the recorded stream)', () => {
    const rng = new Rng(9);
    for (let trial = 0; trial < 20; trial++) {
      const flags = labels.map(() => (rng.next() < 0.4 ? 1 : 0));
      const want = episodeScores(labels, flags, { keys });
      const order = events.map((_, i) => i);
      for (let i = order.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [order[i], order[j]] = [order[j], order[i]];
      }
      const t = new EpisodeTally(episodeIndex(events));
      for (const i of order) t.observe(events[i].id, labels[i], flags[i] === 1);
      expect(t.result()).toEqual({
        episodes: want.episodes,
        detected: want.detected,
        falseAlarms: want.falseAlarms,
        events: labels.length,
      });
    }
  });
});
