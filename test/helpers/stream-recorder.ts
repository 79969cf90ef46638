/**
 * What a stream emitted, with the wall time (performance.now()) of each event: the fault-injection tests
 * (test/e2e/faults-*.test.ts) record a faulty and a healthy camera this way and assert on rates, gaps and states.
 */
import { expect } from 'vitest';

import type { CamtrackError, FrameResult, Stream } from '../../dist/index.js';
import type { StateChange } from '../../dist/types.js';

export type TimedResult = { r: FrameResult; at: number };

export interface Rec {
  results: TimedResult[];
  states: { c: StateChange; at: number }[];
  warnings: { e: CamtrackError; at: number }[];
  errors: CamtrackError[];
}

/** Starts recording `stream`'s results, state changes, warnings and errors. */
export function record(stream: Stream): Rec {
  const rec: Rec = { results: [], states: [], warnings: [], errors: [] };
  stream.on('result', (r: FrameResult) => rec.results.push({ r, at: performance.now() }));
  stream.on('state', (_s: string, _p: string, c: StateChange) => rec.states.push({ c, at: performance.now() }));
  stream.on('warning', (e: CamtrackError) => rec.warnings.push({ e, at: performance.now() }));
  stream.on('error', (e: CamtrackError) => rec.errors.push(e));
  return rec;
}

/** Polls `cond` every 20 ms; resolves with the time it took, rejects after `timeoutMs` naming `what()`. */
export async function until(cond: () => boolean, timeoutMs: number, what: () => string): Promise<number> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return performance.now() - t0;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The results that arrived in [a, b) (performance.now() times). */
export const resultsBetween = (rec: Rec, a: number, b: number): TimedResult[] =>
  rec.results.filter((x) => x.at >= a && x.at < b);

/** The state changes as `state(reason)→…`, for failure messages. */
export const describeStates = (rec: Rec): string => rec.states.map(({ c }) => `${c.state}(${c.reason})`).join('→');

/** Results came in frame order: frameIndex and ptsMs strictly increase. */
export function expectOrdered(rec: Rec, label: string): void {
  for (let i = 1; i < rec.results.length; i++) {
    expect(rec.results[i]!.r.frameIndex, `${label} frameIndex`).toBeGreaterThan(rec.results[i - 1]!.r.frameIndex);
    expect(rec.results[i]!.r.ptsMs, `${label} ptsMs`).toBeGreaterThan(rec.results[i - 1]!.r.ptsMs);
  }
}
