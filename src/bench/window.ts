/** The timed window of a bench trial: wall clock and process CPU time, and the results counted inside it. */
import { cpuPercent } from './stats.js';

/** Wall clock and CPU time of the whole process (all threads) between start() and stop(). */
export class TrialClock {
  private t0 = 0;
  private t1 = 0;
  private c0 = process.cpuUsage();
  private c1 = this.c0;

  start(): void {
    this.c0 = process.cpuUsage();
    this.t0 = performance.now();
  }

  stop(): void {
    this.t1 = performance.now();
    this.c1 = process.cpuUsage();
  }

  get wallMs(): number {
    return this.t1 - this.t0;
  }

  /** CPU time in the window as % of one core. */
  get cpuPercent(): number {
    return cpuPercent(this.c0, this.c1, this.wallMs);
  }
}

/**
 * A window over delivered results, for the trials that count results as they come (pipeline, pipeline-null): it
 * opens at the `warmup`-th result (warmup ≥ 1) and closes at the `warmup + frames`-th; the latencies of the `frames`
 * results after the opening one are kept. `opening` runs just before the clock starts, `closed` just after it stops;
 * `done` resolves when the window closes.
 */
export class ResultWindow {
  readonly clock = new TrialClock();
  readonly latenciesMs: number[] = [];
  readonly target: number;
  readonly done: Promise<void>;
  delivered = 0;
  private resolveDone!: () => void;

  constructor(
    private readonly warmup: number,
    frames: number,
    private readonly hooks: { opening?: () => void; closed?: () => void } = {},
  ) {
    this.target = warmup + frames;
    this.done = new Promise<void>((r) => (this.resolveDone = r));
  }

  /** Counts one delivered result; true when it is one of the window's `frames`. */
  add(latencyMs: number): boolean {
    this.delivered++;
    if (this.delivered === this.warmup) {
      this.hooks.opening?.();
      this.clock.start();
      return false;
    }
    if (this.delivered <= this.warmup || this.delivered > this.target) return false;
    this.latenciesMs.push(latencyMs);
    if (this.delivered === this.target) {
      this.clock.stop();
      this.hooks.closed?.();
      this.resolveDone();
    }
    return true;
  }
}
