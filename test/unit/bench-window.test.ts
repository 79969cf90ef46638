/**
 * The bench's measurement window (src/bench/window.ts): which delivered results it counts, when its clock runs, and
 * the order of its hooks. Pure TypeScript: imported from src, no addon needed.
 */
import { describe, expect, it } from 'vitest';

import { ResultWindow, TrialClock } from '../../src/bench/window.js';

describe('ResultWindow', () => {
  it('opens at the warmup-th result, keeps the next `frames` latencies, closes and resolves at warmup + frames', async () => {
    const calls: string[] = [];
    const win = new ResultWindow(3, 4, { opening: () => calls.push('opening'), closed: () => calls.push('closed') });
    expect(win.target).toBe(7);
    const inside: boolean[] = [];
    let resolved = false;
    void win.done.then(() => (resolved = true));
    for (let i = 1; i <= 9; i++) {
      inside.push(win.add(i * 10));
      if (i === 3) expect(calls).toEqual(['opening']);
      if (i === 6) expect(calls).toEqual(['opening']);
    }
    await Promise.resolve();
    expect(inside).toEqual([false, false, false, true, true, true, true, false, false]);
    expect(win.latenciesMs).toEqual([40, 50, 60, 70]);
    expect(win.delivered).toBe(9);
    expect(calls).toEqual(['opening', 'closed']);
    expect(resolved).toBe(true);
    expect(win.clock.wallMs).toBeGreaterThanOrEqual(0);
  });

  it('does not close before warmup + frames results', async () => {
    const win = new ResultWindow(1, 5);
    for (let i = 0; i < 5; i++) win.add(1);
    const state = await Promise.race([win.done.then(() => 'closed'), new Promise((r) => setTimeout(() => r('open'), 20))]);
    expect(state).toBe('open');
    expect(win.latenciesMs).toHaveLength(4);
  });
});

describe('TrialClock', () => {
  it('measures the wall time between start() and stop() only, and the CPU used in it', async () => {
    const clock = new TrialClock();
    await new Promise((r) => setTimeout(r, 30));
    clock.start();
    const spinUntil = performance.now() + 60;
    while (performance.now() < spinUntil); // busy: one core
    clock.stop();
    await new Promise((r) => setTimeout(r, 30));
    expect(clock.wallMs).toBeGreaterThanOrEqual(60);
    expect(clock.wallMs).toBeLessThan(1000);
    // A busy main thread is ~100 % of one core; loose bounds for a shared CI machine.
    expect(clock.cpuPercent).toBeGreaterThan(30);
    expect(clock.cpuPercent).toBeLessThan(400);
  });
});
