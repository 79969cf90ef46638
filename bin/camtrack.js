#!/usr/bin/env node
// The `camtrack` command. The CLI is compiled TypeScript (dist/); `npm install` in a clone builds it (prepare).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error('camtrack: dist/ is missing — run `npm run build:ts` (or `npm install`) in the package directory.');
  process.exit(1);
}
const { runCli } = await import(main.href);
process.exitCode = await runCli(process.argv.slice(2));
