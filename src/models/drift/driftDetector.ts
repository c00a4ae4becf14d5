import { ModelError } from '../../errors.js';
import { ADWIN, type AdwinOptions, type AdwinState } from './adwin.js';
import { PageHinkley, type PageHinkleyOptions, type PageHinkleyState } from './pageHinkley.js';

/** What a pipeline needs from a drift detector on its prequential loss. */
export interface DriftDetector {
  /** Feeds one value; true when it raises an alarm. */
  update(x: number): boolean;
  readonly detections: number;
  readonly seen: number;
  state(): PageHinkleyState | AdwinState;
}

export type DriftDetectorSpec =
  ({ type: 'page-hinkley' } & PageHinkleyOptions) | ({ type: 'adwin' } & AdwinOptions);

/** Builds a detector from a config spec (`{ type: 'page-hinkley' | 'adwin', ...options }`). */
export function createDriftDetector(spec: DriftDetectorSpec): DriftDetector {
  if (spec?.type === 'page-hinkley') return new PageHinkley(spec);
  if (spec?.type === 'adwin') return new ADWIN(spec);
  throw new ModelError(
    `drift.type: expected 'page-hinkley' or 'adwin', got ${JSON.stringify((spec as { type?: unknown })?.type)}`,
  );
}

/** Rebuilds a detector from its state. */
export function driftDetectorFromState(s: PageHinkleyState | AdwinState): DriftDetector {
  if (s?.kind === 'PageHinkley') return PageHinkley.fromState(s);
  if (s?.kind === 'ADWIN') return ADWIN.fromState(s);
  throw new ModelError(
    `drift detector state: unknown kind ${JSON.stringify((s as { kind?: unknown })?.kind)}`,
  );
}
