#!/usr/bin/env node
// What inference.breaker.fallback 'cpu' costs at start (docs/scheduling.md, "The fallback backend"): one
// Pipeline.create() of yolo11n_int8_320 with one primary worker, with fallback 'none' or 'cpu', in this fresh process.
// Prints the stamped report (src/bench/report.ts): create() time, the fallback worker's own start
// (pipeline.fallbackStartMs: creation → session created on the CPU provider and attached, alongside the primary
// worker) and the process's RSS after create(); `--out f.json` also writes it to a file.
// Run each case in its own process, a few times, alternating:
//   for i in 1 2 3; do for f in none cpu; do nice -n 19 node bench/breaker-fallback-start.mjs $f; done; done
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const assets = process.env.CAMTRACK_ASSETS ?? path.resolve(root, '..', 'shared', 'assets');
const fallback = process.argv[2] ?? 'cpu';
const outAt = process.argv.indexOf('--out');
const out = outAt > 0 ? process.argv[outAt + 1] : undefined;
const { Pipeline } = await import(path.join(root, 'dist', 'index.js'));
const { startReport, writeReport } = await import('../dist/bench/report.js');
const start = startReport();
const t0 = performance.now();
const p = await Pipeline.create({ model: path.join(assets, 'models', 'yolo11n_int8_320.onnx'), inference: { workers: 1, breaker: { fallback } } });
const createMs = performance.now() - t0;
writeReport(
  'bench/breaker-fallback-start.mjs',
  {
    fallback,
    createMs: Math.round(createMs),
    fallbackStartMs: p.fallbackStartMs === undefined ? null : Math.round(p.fallbackStartMs),
    rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
  },
  { out, start },
);
await p.close();
