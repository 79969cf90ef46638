#!/usr/bin/env node
// Thin wrapper: `node bench/decode.mjs [options]` runs the native decode-only benchmark
// (bench/native/decode_bench.cpp → camtrack_bench_decode_bench) from the package root, so its default clip
// (../shared/assets or $CAMTRACK_ASSETS) and report path (bench/results/decode-<time>.json) resolve there.
// The executable is looked up in $CAMTRACK_DECODE_BENCH, then build/ and build/Release/ (npm run build:dev
// builds it). All options are the executable's: `node bench/decode.mjs --help`. See bench/README.md.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const candidates = [
  process.env.CAMTRACK_DECODE_BENCH,
  `${root}build/camtrack_bench_decode_bench`,
  `${root}build/Release/camtrack_bench_decode_bench`,
].filter(Boolean);
const exe = candidates.find((p) => existsSync(p));
if (!exe) {
  console.error(
    `camtrack_bench_decode_bench not found (tried: ${candidates.join(', ')}).\n` +
      'Build it with `CMAKE_BUILD_PARALLEL_LEVEL=2 npm run build:dev` (benchmarks are opt-in: `npm install` builds the addon only), ' +
      'or point CAMTRACK_DECODE_BENCH at it.',
  );
  process.exit(2);
}
const r = spawnSync(exe, process.argv.slice(2), { stdio: 'inherit', cwd: root });
process.exitCode = r.status ?? 1;
