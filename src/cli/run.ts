/**
 * `camtrack run --config <file.json|yaml>`: runs a pipeline from a config file (PipelineConfig, with `streams`)
 * and prints one wire-format JSON line per result on stdout (state/warning/error events go to stderr as wire JSON
 * lines; docs/wire.md). Stops on SIGINT/SIGTERM,
 * when every stream has ended, after --max-frames results or after --duration seconds; results still in flight
 * are printed while the pipeline closes, but never more than --max-frames in all.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import YAML from 'yaml';

import { ConfigError, redactSecretsIn } from '../errors.js';
import { Pipeline } from '../pipeline.js';
import { toWireErrorMessage, toWireResult, toWireStateMessage } from '../wire/index.js';

export async function loadConfigFile(file: string): Promise<Record<string, unknown>> {
  const text = await readFile(file, 'utf8');
  let parsed: unknown;
  try {
    parsed = /\.ya?ml$/i.test(file) ? YAML.parse(text) : JSON.parse(text);
  } catch (err) {
    // YAML's message quotes the offending lines, which may hold a stream URL with its password.
    throw new ConfigError(file, `cannot parse: ${redactSecretsIn((err as Error).message)}`);
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

/** Options of `camtrack run` (declared in main.ts). */
export interface RunOptions {
  config: string;
  /** 0 = no limit. */
  maxFrames: number;
  /** Seconds; 0 = no limit. */
  duration: number;
}

export async function runRun({ config, maxFrames, duration }: RunOptions): Promise<number> {
  const cfg = await loadConfigFile(config);
  const pipeline = await Pipeline.create(cfg as never);
  let count = 0;
  let failed = false;
  const done = new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (duration > 0) setTimeout(stop, duration * 1000).unref();
    pipeline.on('result', (r) => {
      // close() delivers the results still in flight after stop(); they count against --max-frames too.
      if (maxFrames > 0 && count >= maxFrames) return;
      process.stdout.write(JSON.stringify(toWireResult(r)) + '\n');
      if (maxFrames > 0 && ++count >= maxFrames) stop();
    });
    pipeline.on('state', (s, _state, change) => process.stderr.write(JSON.stringify(toWireStateMessage(s.id, change)) + '\n'));
    pipeline.on('warning', (err, s) => process.stderr.write(JSON.stringify(toWireErrorMessage('warning', s?.id ?? null, err)) + '\n'));
    pipeline.on('error', (err, s) => {
      failed = true;
      process.stderr.write(JSON.stringify(toWireErrorMessage('error', s?.id ?? null, err)) + '\n');
    });
    void pipeline.whenAllEnded().then(stop);
  });
  await done;
  await pipeline.close();
  return failed ? 1 : 0;
}
