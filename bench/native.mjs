#!/usr/bin/env node
// `node bench/native.mjs <name> [options of the executable] [--out f.json]`: runs one native benchmark executable,
// build/camtrack_bench_<name> (bench/native/<name>_bench.cpp: preprocess, tracker, analytics, association, jpeg,
// decode), and writes its JSON as a report with the common stamp (tool, version, startedAt, durationS, commit,
// machine: src/bench/report.ts, issue 15's one harness). The executable measures ONE configuration and prints one
// JSON object on stdout (its human lines go to stderr, passed through); this wrapper adds nothing else, so for the
// decode and JPEG comparisons run their drivers instead: `node bench/decode.mjs`, `node bench/jpeg.mjs`.
// `--out` (taken out of the executable's options; default bench/results/<name>-<time>.json) and `--help`.
// Exit: the executable's (77, a missing NVDEC, too), 2 when it is not built or prints no JSON.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const { resultsPath, startReport, writeReport } = await import('../dist/bench/report.js');

const [name, ...rest] = process.argv.slice(2);
if (!name || name === '--help' || name === '-h') {
  process.stdout.write('usage: node bench/native.mjs <preprocess|tracker|analytics|association|jpeg|decode> [options] [--out f.json]\n' +
    '       node bench/native.mjs <name> --help     (the executable\'s options)\n');
  process.exit(name ? 0 : 2);
}
if (!/^[a-z0-9_]+$/.test(name)) {
  process.stderr.write(`bench/native.mjs: bad benchmark name '${name}'\n`);
  process.exit(2);
}
let out;
const args = [];
for (let i = 0; i < rest.length; i++) {
  if (rest[i] === '--out') out = rest[++i];
  else if (rest[i].startsWith('--out=')) out = rest[i].slice(6);
  else args.push(rest[i]);
}
const exeName = `camtrack_bench_${name}_bench`;
const candidates = [path.join(root, 'build', exeName), path.join(root, 'build', 'Release', exeName)];
const exe = candidates.find((p) => existsSync(p));
if (!exe) {
  process.stderr.write(`${exeName} not found (tried: ${candidates.join(', ')}); build it with \`CMAKE_BUILD_PARALLEL_LEVEL=2 npm run build:dev\`\n`);
  process.exit(2);
}
if (args.includes('--help') || args.includes('-h')) {
  process.exitCode = spawnSync(exe, args, { stdio: 'inherit' }).status ?? 1;
} else {
  const start = startReport();
  const r = spawnSync(exe, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 256 << 20 });
  if (r.status !== 0) {
    process.exitCode = r.status ?? 1;
  } else {
    let body;
    try {
      body = JSON.parse(r.stdout);
    } catch (e) {
      process.stderr.write(`bench/native.mjs: ${exeName} printed no JSON object: ${e.message}\n`);
      process.exit(2);
    }
    const { path: written } = writeReport(exeName, { executable: exe, arguments: args, ...body }, { out: out ?? resultsPath(name, start.startedAt), start });
    process.stderr.write(`report: ${written}\n`);
  }
}
