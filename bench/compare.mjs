#!/usr/bin/env node
// Pipeline throughput of this tree against another commit, built beside it, measured in the same run:
//   node bench/compare.mjs [--base HEAD~1] [--repeat 3] [--frames 400] [--trials pipeline,pipeline-4x] [--min-ratio 0.95]
//                          [--out file.json] [-- <more camtrack bench options>]
// The base commit is checked out into .bench-base/<sha>/ (a detached git worktree, git-ignored) and built there with
// `npm run build` (its node_modules is a link to this tree's); built once per sha and reused. Rounds alternate
// new, base, new, base, … and each round runs every trial of `camtrack bench` in a fresh child process, so drift
// on a shared machine hits both sides alike. The JSON report (stdout, and --out) gives each side's median fps and
// main-thread event-loop delay p99 per trial, and the ratio new/base of the medians and of the paired rounds; the
// exit code is 1 when a trial's paired ratio is under --min-ratio. docs/benchmarks.md records runs of it.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    base: { type: 'string', default: 'HEAD~1' },
    repeat: { type: 'string', default: '3' },
    frames: { type: 'string', default: '400' },
    trials: { type: 'string', default: 'pipeline,pipeline-4x' },
    'min-ratio': { type: 'string', default: '0.95' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\nimport ')[0].replace(/^#!.*\n/, ''));
  process.exit(0);
}
const git = (...args) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
const sha = git('rev-parse', '--verify', `${values.base}^{commit}`);
// The one report module (issue 15): commit, stamp (tool, version, commit, machine, startedAt) and the ratios.
const { commitInfo, ratio, round, startReport, writeReport } = await import('../dist/bench/report.js');
const start = startReport();
const { sha: head, dirty } = commitInfo(root); // not null: the git rev-parse of --base above ran in this checkout
const baseDir = path.join(root, '.bench-base', sha.slice(0, 12));
const log = (line) => process.stderr.write(`[compare] ${line}\n`);

if (!existsSync(path.join(baseDir, 'build', 'Release', 'camtrack.node')) || !existsSync(path.join(baseDir, 'dist'))) {
  log(`building ${values.base} (${sha.slice(0, 12)}) in ${path.relative(root, baseDir)}`);
  if (existsSync(baseDir)) {
    spawnSync('git', ['worktree', 'remove', '--force', baseDir], { cwd: root });
    rmSync(baseDir, { recursive: true, force: true });
  }
  mkdirSync(path.dirname(baseDir), { recursive: true });
  git('worktree', 'add', '--detach', baseDir, sha);
  symlinkSync(path.join(root, 'node_modules'), path.join(baseDir, 'node_modules'));
  // The addon, then dist/ (no `npm run build`: since `npm run prebuild` exists, npm would run it first as build's hook).
  const run = (args) => spawnSync(process.execPath, args, { cwd: baseDir, stdio: ['ignore', process.stderr, 'inherit'] });
  let b = run(['scripts/build-native.mjs']);
  if (b.status === 0) b = run([path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json']);
  if (b.status !== 0) {
    log(`building the base failed (exit ${b.status})`);
    process.exit(2);
  }
}
for (const dir of [root]) {
  if (!existsSync(path.join(dir, 'build', 'Release', 'camtrack.node'))) {
    log(`${dir} has no built addon: run npm run build:dev first`);
    process.exit(2);
  }
}

// Both sides read the same assets: the base tree's own ../shared is not there.
const env = { ...process.env, CAMTRACK_ASSETS: process.env.CAMTRACK_ASSETS ?? path.resolve(root, '..', 'shared', 'assets') };
const trials = values.trials.split(',');
const repeat = Number(values.repeat);
const sides = { new: root, base: baseDir };
const runs = { new: [], base: [] };
const tmp = path.join(tmpdir(), `camtrack-compare-${process.pid}.json`);
for (let r = 0; r < repeat; r++) {
  for (const side of ['new', 'base']) {
    const args = [path.join(sides[side], 'bin', 'camtrack.js'), 'bench', '--trials', values.trials, '--repeat', '1',
      '--frames', values.frames, '--quiet', '--out', tmp, ...positionals];
    const p = spawnSync(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] });
    if (p.status !== 0) {
      log(`${side} round ${r + 1} failed (exit ${p.status})`);
      process.exit(2);
    }
    const report = JSON.parse(readFileSync(tmp, 'utf8'));
    const round = {};
    for (const t of trials) {
      const run = report.trials[t].runs[0];
      round[t] = { fps: run.fps, eventLoopDelayP99Ms: run.details?.eventLoopDelayP99Ms ?? null };
    }
    runs[side].push(round);
    log(`round ${r + 1}/${repeat} ${side}: ${trials.map((t) => `${t} ${round[t].fps} fps`).join(', ')}`);
  }
}
rmSync(tmp, { force: true });

const r3 = (x) => round(x, 3);
const minRatio = Number(values['min-ratio']);
const result = {};
let ok = true;
for (const t of trials) {
  const side = (s) => ({
    medianFps: r3(median(runs[s].map((x) => x[t].fps))),
    medianEventLoopDelayP99Ms: runs[s][0][t].eventLoopDelayP99Ms === null ? null : r3(median(runs[s].map((x) => x[t].eventLoopDelayP99Ms))),
    fps: runs[s].map((x) => x[t].fps),
  });
  const r = ratio(runs.new.map((x) => x[t].fps), runs.base.map((x) => x[t].fps));
  const pass = r.pairedMedian >= minRatio;
  ok &&= pass;
  result[t] = { new: side('new'), base: side('base'), ratioOfMedians: r.ofMedians, pairedRatio: r.pairedMedian, pass };
}
const report = { new: { commit: head, dirty }, base: { ref: values.base, commit: sha }, repeat, frames: Number(values.frames), minRatio, trials: result, pass: ok };
writeReport('bench/compare.mjs', report, { out: values.out, start });
process.exitCode = ok ? 0 : 1;
