#!/usr/bin/env node
// Thin wrapper: `node bench/e2e.mjs [options]` = `node bin/camtrack.js bench [options]` from the package root.
// See bench/README.md for the options and the JSON it prints.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/camtrack.js', import.meta.url));
const r = spawnSync(process.execPath, [bin, 'bench', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exitCode = r.status ?? 1;
