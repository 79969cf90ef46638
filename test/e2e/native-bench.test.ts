/**
 * The native benchmark executables through the one harness (issue 15, bench/README.md): each measures one
 * configuration and prints one JSON object; `node bench/native.mjs <name>` and `node bench/jpeg.mjs` stamp it as a
 * report (src/bench/report.ts). Short configurations; checks the shape, the cases and the common stamp (tool,
 * version, commit, machine, startedAt), not speed. A build without benchmarks skips, loudly (a failure under CI=true).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, type TestContext } from 'vitest';

import { assetPath, repoRoot } from '../helpers/assets.js';
import { whyOptInOff } from '../helpers/native-build.js';
import { lazyTempDir } from '../helpers/temp-dir.js';

const tmp = lazyTempDir('camtrack-native-bench-');
const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).stdout.trim();

function requireBenchBuild(ctx: TestContext): void {
  const off = whyOptInOff('CAMTRACK_BUILD_BENCH');
  if (off === undefined) return;
  console.warn(`[camtrack tests] native benches SKIPPED: ${off}`);
  ctx.skip(off);
}

interface Stamped {
  tool: string;
  version: string;
  commit: string | null;
  startedAt: string;
  durationS: number;
  machine: { cpus: number; node: string; cpuModel: string; loadAverage: number[]; loadAverageAfter: number[] };
  [k: string]: unknown;
}

function expectStamp(r: Stamped, tool: string): void {
  expect(r.tool).toBe(tool);
  expect(r.version).toMatch(/^\d+\.\d+\.\d+/);
  expect(r.commit).toMatch(new RegExp(`^${head}(-dirty)?$`));
  expect(Date.parse(r.startedAt)).toBeGreaterThan(0);
  expect(r.durationS).toBeGreaterThanOrEqual(0);
  expect(r.machine.cpus).toBeGreaterThan(0);
  expect(r.machine.node).toBe(process.version);
  expect(r.machine.loadAverage).toHaveLength(3);
  expect(r.machine.loadAverageAfter).toHaveLength(3);
}

function run(script: string, args: string[]): { report: Stamped; stderr: string } {
  const out = path.join(tmp(), `${path.basename(script)}-${args[0] ?? ''}.json`);
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'bench', script), ...args, '--out', out], {
    encoding: 'utf8',
    timeout: 240_000,
    env: { ...process.env, CAMTRACK_ASSETS: assetPath('.') },
  });
  expect(r.status, r.stderr).toBe(0);
  const report = JSON.parse(readFileSync(out, 'utf8')) as Stamped;
  expect(JSON.parse(r.stdout)).toEqual(report);
  return { report, stderr: r.stderr };
}

describe('native benchmarks through bench/native.mjs (stamped reports)', () => {
  it.each([
    ['preprocess', ['--iterations', '10'], 4],
    ['tracker', ['--frames', '20'], 9],
    ['analytics', ['--frames', '200'], 5],
    ['association', ['--iterations', '2'], 4],
  ] as const)('%s %s', (name, args, cases, ctx) => {
    requireBenchBuild(ctx);
    const { report, stderr } = run('native.mjs', [name, ...args]);
    expectStamp(report, `camtrack_bench_${name}_bench`);
    expect(report).toMatchObject({ bench: name, arguments: [...args] });
    expect(report['cases']).toHaveLength(cases);
    expect(stderr.trim().split('\n').length).toBeGreaterThanOrEqual(cases); // one human line per case
  }, 300_000);

  it('EXPECTED FAILURE - an option the executable does not know exits 2 and names it', (ctx) => {
    requireBenchBuild(ctx);
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'bench', 'native.mjs'), 'tracker', '--nosuch', '3'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown option --nosuch');
  });
});

describe('bench/jpeg.mjs (one JPEG into one model size per executable run)', () => {
  it('measures every input into 416 and 640 with the six trials and paired ratios, stamped', (ctx) => {
    requireBenchBuild(ctx);
    const { report } = run('jpeg.mjs', ['--repeat', '1', '--min-sample-ms', '2']);
    expectStamp(report, 'bench/jpeg.mjs');
    const results = report['results'] as Record<string, unknown>[];
    expect(results.map((r) => `${r['input'] as string}/${r['model'] as number}`)).toEqual([
      '720p/416', '720p/640', '1080p/416', '1080p/640', '4K/416', '4K/640',
    ]);
    expect(report['inputs']).toMatchObject([
      { name: '720p', width: 1280, height: 720 },
      { name: '1080p', width: 1920, height: 1080 },
      { name: '4K', width: 3840, height: 2160 },
    ]);
    for (const r of results) {
      for (const t of ['full', 'scaled', 'full_lb', 'scaled_lb', 'scaled_rgb_lb', 'full_rgb_lb']) {
        const ms = r[`${t}Ms`] as { median: number; min: number };
        expect(ms.median, `${t}`).toBeGreaterThan(0);
        expect(ms.min).toBeLessThanOrEqual(ms.median);
      }
      // One round: each ratio is that round's pair.
      const f = (t: string) => (r[`${t}Ms`] as { median: number }).median;
      expect(r['speedupDecode'] as number).toBeCloseTo(f('full') / f('scaled'), 1);
    }
    expect((report['machine'] as Record<string, unknown>)['ffmpeg']).toMatch(/\d/);
  }, 300_000);
});
