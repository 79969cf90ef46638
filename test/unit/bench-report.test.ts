/**
 * The one report module of the benchmarks (src/bench/report.ts, issue 15): its statistics against hand-computed
 * values, the steady-state window, the commit and machine description, and the stamp every report carries. Then,
 * statically, that every bench writes its report through it (no private machine info, commit or percentile left).
 * Pure TypeScript: imported from src, no addon needed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import {
  commitInfo,
  latencySummary,
  machineInfo,
  mean,
  median,
  pairedRatioMedian,
  percentile,
  ratio,
  slope,
  stampReport,
  startReport,
  steadyWindow,
  writeReport,
} from '../../src/bench/report.js';
import { repoRoot as root } from '../helpers/assets.js';

describe('report.ts statistics', () => {
  it('percentile is the nearest rank: sorted[ceil(q n) - 1], no interpolation', () => {
    // Hand-computed: [1..10] shuffled; q n = 5 → 5th value; 0.99 × 10 = 9.9 → 10th; 0.1 × 10 = 1 → 1st.
    const xs = [7, 3, 10, 1, 9, 2, 8, 4, 6, 5];
    expect(percentile(xs, 0.5)).toBe(5);
    expect(percentile(xs, 0.99)).toBe(10);
    expect(percentile(xs, 0.9)).toBe(9);
    expect(percentile(xs, 0.91)).toBe(10);
    expect(percentile(xs, 0.1)).toBe(1);
    expect(percentile(xs, 0)).toBe(1);
    expect(percentile(xs, 1)).toBe(10);
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2); // not 2.5: always a measured value
    // 100 values 1..100: p99 is the 99th smallest (the floor(q n) index some scripts used gave the 100th).
    expect(percentile(Array.from({ length: 100 }, (_, i) => 100 - i), 0.99)).toBe(99);
    expect(percentile([], 0.5)).toBeNaN();
    expect(xs).toEqual([7, 3, 10, 1, 9, 2, 8, 4, 6, 5]); // not sorted in place
  });

  it('median, mean', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
    expect(mean([1, 2, 3, 4])).toBe(2.5);
    expect(mean([])).toBeNaN();
  });

  it('ratio: of medians and the median of the per-round ratios, skipping rounds without a figure', () => {
    // Rounds: 10/5 = 2, 12/4 = 3, 9/9 = 1 → paired median 2; medians 10 / 5 = 2.
    expect(pairedRatioMedian([10, 12, 9], [5, 4, 9])).toBe(2);
    expect(ratio([10, 12, 9], [5, 4, 9])).toEqual({ ofMedians: 2, pairedMedian: 2 });
    // Round 2 of b had no figure (NaN) and round 3 a zero: paired over round 1 only (30/10 = 3); medians 20 / 10.
    expect(ratio([30, 20, 10], [10, Number.NaN, 0])).toEqual({ ofMedians: 4, pairedMedian: 3 });
    expect(ratio([1, 2], [3, 3], 4)).toEqual({ ofMedians: 0.5, pairedMedian: 0.5 });
    expect(ratio([], []).ofMedians).toBeNaN();
  });

  it('slope: least squares, units of y per unit of x', () => {
    expect(slope([0, 1, 2, 3], [1, 3, 5, 7])).toBeCloseTo(2, 12);
    // y = 10 + 0.5 x with noise +1, -1, +1, -1 at x = 0, 1, 2, 3: slope = 0.5 + Σ(x - 1.5)(e) / Σ(x - 1.5)² = 0.5 - 0.4.
    expect(slope([0, 1, 2, 3], [11, 9.5, 12, 10.5])).toBeCloseTo(0.1, 12);
    expect(slope([1], [1])).toBeNaN();
    expect(slope([2, 2], [1, 3])).toBeNaN();
  });

  it('latencySummary: n, nearest-rank p50/p99, max; nulls when empty', () => {
    expect(latencySummary([3, 1, 2, 4])).toEqual({ n: 4, p50: 2, p99: 4, max: 4 });
    expect(latencySummary([])).toEqual({ n: 0, p50: null, p99: null, max: null });
  });

  it('steadyWindow: from the first sample with every stream started to the last before one finished', () => {
    const s = (t: number, allRunning: boolean, ...counts: number[]) => ({ t, allRunning, counts });
    const samples = [s(0.05, true, 3, 0), s(0.1, true, 6, 2), s(0.6, true, 56, 40), s(1.1, true, 106, 80), s(1.15, false, 111, 82)];
    // Window 0.1 → 1.1 s: (106 - 6) + (80 - 2) = 178 frames in 1.0 s.
    const w = steadyWindow(samples);
    expect(w!.fps).toBeCloseTo(178, 9);
    expect(w!.windowS).toBeCloseTo(1, 9);
    expect(steadyWindow(samples, 1.5)).toBeNull(); // shorter than the floor
    expect(steadyWindow([s(0.05, true, 0), s(0.1, false, 3)])).toBeNull();
  });
});

describe('report.ts machine, commit and stamp', () => {
  it('commitInfo gives HEAD and the dirty flag in a checkout, null outside one', () => {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const c = commitInfo(root)!;
    expect(c.sha).toBe(head);
    expect(c.id).toBe(c.dirty ? `${head}-dirty` : head);
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'camtrack-report-nogit-'));
    try {
      expect(commitInfo(tmp)).toBeNull();
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('machineInfo describes this machine', () => {
    const m = machineInfo();
    expect(m.cpus).toBe(os.cpus().length);
    expect(m.node).toBe(process.version);
    expect(m.kernel).toBe(os.release());
    expect(m.totalMemoryBytes).toBe(os.totalmem());
    expect(m.loadAverage).toHaveLength(3);
    const ort = JSON.parse(readFileSync(path.join(root, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8')) as { version: string };
    expect(m.onnxruntime).toBe(ort.version);
  });

  it('stampReport puts the same stamp in front of every body and adds to the machine', () => {
    const start = startReport();
    const r = stampReport('bench/x.mjs', { machine: { libavcodec: 'FFmpeg 5.1' }, bench: 'x', figure: 1 }, start);
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
    expect(Object.keys(r).slice(0, 6)).toEqual(['tool', 'version', 'startedAt', 'durationS', 'commit', 'machine']);
    expect(r).toMatchObject({ tool: 'bench/x.mjs', version: pkg.version, startedAt: start.startedAt.toISOString(), bench: 'x', figure: 1 });
    expect(r.commit).toBe(commitInfo(root)!.id);
    expect(r.durationS).toBeGreaterThanOrEqual(0);
    expect(r.machine).toMatchObject({ cpus: os.cpus().length, libavcodec: 'FFmpeg 5.1' });
    expect(r.machine.loadAverageAfter).toHaveLength(3);
  });

  it('writeReport writes the stamped report to the file it is given', () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'camtrack-report-'));
    try {
      const out = path.join(tmp, 'sub', 'r.json');
      const { report, path: written } = writeReport('t', { a: [1, Number.NaN] }, { out, stdout: false });
      expect(written).toBe(out);
      const back = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
      expect(back).toEqual(JSON.parse(JSON.stringify(report)));
      expect(back).toMatchObject({ tool: 't', a: [1, null] });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('every bench writes its report through report.ts', () => {
  const benchDir = path.join(root, 'bench');
  const scripts = readdirSync(benchDir).filter((f) => f.endsWith('.mjs') && f !== 'e2e.mjs'); // e2e.mjs = camtrack bench
  it.each(scripts)('bench/%s', (file) => {
    const src = readFileSync(path.join(benchDir, file), 'utf8');
    expect(src).toMatch(/dist\/bench\/report\.js/);
    expect(src).toMatch(/writeReport\(/);
    // No private copies of the machine description, commit or percentile.
    expect(src).not.toMatch(/os\.cpus\(\)\[0\]|os\.loadavg\(\)\.map|rev-parse', 'HEAD'|function quantile|Math\.floor\(q \* /);
  });

  it('camtrack bench (src/cli/bench.ts) too', () => {
    const src = readFileSync(path.join(root, 'src', 'cli', 'bench.ts'), 'utf8');
    expect(src).toMatch(/writeReport\('camtrack bench'/);
    expect(src).not.toMatch(/machineInfo|gitCommit/);
  });

  it('the native executables only measure: no process spawning, machine description or report files', () => {
    const dir = path.join(benchDir, 'native');
    const sources = readdirSync(dir).filter((f) => f.endsWith('.cpp'));
    expect(sources.length).toBeGreaterThanOrEqual(6);
    for (const f of sources) {
      const src = readFileSync(path.join(dir, f), 'utf8');
      expect(src, f).toMatch(/#include "bench_json\.h"/);
      expect(src, f).toMatch(/#include "bench_args\.h"/);
      expect(src, f).not.toMatch(/posix_spawn|popen\(|std::system\(|wait4\(|getloadavg|uname\(|ofstream|bench\/results/);
    }
  });
});
