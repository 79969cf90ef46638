/**
 * `camtrack run --config <file.json|yaml>`: runs a pipeline from a config file (PipelineConfig, with `streams`)
 * and prints one JSON line per result on stdout (events go to stderr as JSON lines). Stops on SIGINT/SIGTERM,
 * when every stream has ended, after --max-frames results or after --duration seconds.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import YAML from 'yaml';

import { ConfigError } from '../errors.js';
import { Pipeline } from '../pipeline.js';
import { intOpt, opt, parseArgs } from './args.js';

export async function loadConfigFile(file: string): Promise<Record<string, unknown>> {
  const text = await readFile(file, 'utf8');
  let parsed: unknown;
  try {
    parsed = /\.ya?ml$/i.test(file) ? YAML.parse(text) : JSON.parse(text);
  } catch (err) {
    throw new ConfigError(file, `cannot parse: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null) throw new ConfigError(file, 'Expected an object at the top level');
  const cfg = parsed as Record<string, unknown>;
  // Relative model paths are relative to the config file.
  const dir = path.dirname(path.resolve(file));
  if (typeof cfg.model === 'string' && !path.isAbsolute(cfg.model)) cfg.model = path.resolve(dir, cfg.model);
  else if (cfg.model && typeof cfg.model === 'object') {
    const m = cfg.model as Record<string, unknown>;
    if (typeof m.path === 'string' && !path.isAbsolute(m.path)) m.path = path.resolve(dir, m.path);
  }
  if (Array.isArray(cfg.streams)) {
    for (const s of cfg.streams as Record<string, unknown>[]) {
      if (s && typeof s.url === 'string' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(s.url) && !path.isAbsolute(s.url)) s.url = path.resolve(dir, s.url);
    }
  }
  return cfg;
}

export async function runRun(argv: string[]): Promise<number> {
  const args = parseArgs(argv, []);
  const file = opt(args, 'config');
  if (!file) throw new Error('usage: camtrack run --config <file.json|yaml> [--max-frames N] [--duration S]');
  const maxFrames = intOpt(args, 'max-frames', 0, 0, Number.MAX_SAFE_INTEGER);
  const duration = Number(opt(args, 'duration') ?? 0);
  const cfg = await loadConfigFile(file);
  const pipeline = await Pipeline.create(cfg as never);
  let count = 0;
  let failed = false;
  const done = new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (duration > 0) setTimeout(stop, duration * 1000).unref();
    pipeline.on('result', (r) => {
      process.stdout.write(JSON.stringify(r) + '\n');
      if (maxFrames > 0 && ++count >= maxFrames) stop();
    });
    pipeline.on('state', (s, state) => process.stderr.write(JSON.stringify({ event: 'state', stream: s.id, state }) + '\n'));
    pipeline.on('warning', (err, s) => process.stderr.write(JSON.stringify({ event: 'warning', stream: s.id, code: err.code, message: err.message }) + '\n'));
    pipeline.on('error', (err, s) => {
      failed = true;
      process.stderr.write(JSON.stringify({ event: 'error', stream: s.id, code: err.code, message: err.message, hint: err.hint }) + '\n');
    });
    void pipeline.whenAllEnded().then(stop);
  });
  await done;
  await pipeline.close();
  return failed ? 1 : 0;
}
