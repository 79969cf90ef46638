/**
 * `camtrack run --config <file.json|yaml>`: runs the cameras of a config file (CameraRegistryConfig: the pipeline
 * options, `model` and/or named `models`, `streams` each with an optional `model` name) on a CameraRegistry, one
 * pipeline per model, and prints one wire-format JSON line per result on stdout (state/warning/error events go to
 * stderr as wire JSON lines; docs/wire.md). With `--redis URL` or a `redis` section in the file, results go to Redis
 * Streams instead (src/sinks/redis.ts, docs/redis.md): nothing on stdout, and one summary line on stderr at the end.
 * Stops on SIGINT/SIGTERM,
 * when every stream has ended, after --max-frames results or after --duration seconds; results still in flight
 * are printed while the pipelines close, but never more than --max-frames in all.
 * A camera with input 'push' gets its frames from its `feed` (a directory of images, or stdin: MJPEG or
 * length-prefixed frames; src/cli/feed.ts), pushed with back-pressure; it ends when its feed does.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import YAML from 'yaml';

import { CameraRegistry, type CameraEvent } from '../cameras/registry.js';
import { normaliseRedisOptions, normaliseRegistryConfig } from '../config.js';
import { AnalyticsOutputs } from '../sinks/outputs.js';
import { CamtrackError, ConfigError, redactSecretsIn } from '../errors.js';
import { LineWriter, type LineWriterStats } from '../sinks/lines.js';
import { RedisSink, type RedisSinkStats } from '../sinks/redis.js';
import { runFeed, type FeedControl } from './feed.js';
import type { FrameResult } from '../types.js';
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
  // Relative model paths (of `model` and of each of `models`) are relative to the config file.
  const dir = path.dirname(path.resolve(file));
  const resolveModel = (model: unknown): unknown => {
    if (typeof model === 'string') return path.isAbsolute(model) ? model : path.resolve(dir, model);
    if (model && typeof model === 'object') {
      const m = model as Record<string, unknown>;
      if (typeof m.path === 'string' && !path.isAbsolute(m.path)) m.path = path.resolve(dir, m.path);
    }
    return model;
  };
  cfg.model = resolveModel(cfg.model);
  if (cfg.model === undefined) delete cfg.model;
  if (cfg.models && typeof cfg.models === 'object' && !Array.isArray(cfg.models)) {
    const models = cfg.models as Record<string, unknown>;
    for (const name of Object.keys(models)) models[name] = resolveModel(models[name]);
  }
  if (Array.isArray(cfg.streams)) {
    for (const s of cfg.streams as Record<string, unknown>[]) {
      if (s && typeof s.url === 'string' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(s.url) && !path.isAbsolute(s.url)) s.url = path.resolve(dir, s.url);
      // A pushed camera's feed directory too.
      const feed = s?.feed as Record<string, unknown> | undefined;
      if (feed && typeof feed === 'object' && typeof feed.dir === 'string' && !path.isAbsolute(feed.dir)) feed.dir = path.resolve(dir, feed.dir);
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
  /** Redis URL: results to Redis Streams (overrides the config's redis.url). */
  redis?: string;
}

/** The end-of-run line of a run that wrote to Redis. */
export function formatRedisSummary(s: RedisSinkStats, keyPattern: string): string {
  const d = s.dropped;
  return (
    `camtrack run: ${s.written} results written to ${s.url} (${keyPattern}, ${Object.keys(s.cameras).length} cameras); ` +
    `dropped ${d.full + d.failed + d.closed + d.fenced} (full ${d.full}, failed ${d.failed}, closed ${d.closed}); ` +
    `retried ${s.retried}; reconnects ${s.reconnects}; events written ${s.events.written}`
  );
}

/** The end-of-run line when result lines could not all be written to stdout (docs/reliability.md, "Disk full"). */
export function formatOutputSummary(s: LineWriterStats): string {
  return `camtrack run: ${s.written} results written to stdout, ${s.lost} lost (${s.lastErrorCode ?? 'no error'})`;
}

export async function runRun({ config, maxFrames, duration, redis }: RunOptions): Promise<number> {
  // Events and results as lines that survive a full disk or a closed pipe (counted, never a crash): src/sinks/lines.ts.
  const errOut = new LineWriter(2, process.stderr, 'stderr', () => {});
  const stderrLine = (line: string): void => void errOut.write(line);
  // A closed stdout pipe (`camtrack run | head`) ends the run like SIGPIPE would, with the summary and exit code 1.
  let stopRun = (): void => {};
  const resultsOut = new LineWriter(
    1,
    process.stdout,
    'stdout',
    (err: CamtrackError) => stderrLine(JSON.stringify(toWireErrorMessage('warning', null, err))),
    () => stopRun(),
  );
  const cfg = await loadConfigFile(config);
  // Pushed cameras and their feeds (validated with the rest; a pushed camera without one would wait forever here).
  const normalised = normaliseRegistryConfig(cfg);
  const pushed = normalised.cameras.flatMap((c, i) => (c.stream.input === 'push' ? [{ c, i }] : []));
  for (const { c, i } of pushed) {
    if (!c.feed) {
      throw new ConfigError(
        `streams[${i}].feed`,
        "camtrack run: a camera with input 'push' needs a feed: { dir } (a directory of frames) or { stdin: 'mjpeg' | 'length-prefixed' }",
      );
    }
  }
  // Redis first: a wrong URL or password stops the run before any pipeline starts.
  let sink: RedisSink | undefined;
  if (redis !== undefined || (cfg.redis !== undefined && cfg.redis !== null)) {
    const section = (cfg.redis ?? {}) as Record<string, unknown>;
    const options = normaliseRedisOptions(redis !== undefined ? { ...section, url: redis } : section);
    sink = await RedisSink.create(options);
    sink.on('warning', (err: CamtrackError) => stderrLine(JSON.stringify(toWireErrorMessage('warning', null, err))));
  }
  let cameras: CameraRegistry;
  try {
    cameras = await CameraRegistry.create(cfg as never);
  } catch (err) {
    await sink?.close();
    throw err;
  }
  // Analytics events to webhooks / MQTT (outputs; none by default).
  const outputs = new AnalyticsOutputs(normalised.outputs, (err: CamtrackError) => stderrLine(JSON.stringify(toWireErrorMessage('warning', null, err))));
  outputs.attach(cameras);
  const control: FeedControl = { stopped: false };
  let count = 0;
  let failed = false;
  const done = new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    stopRun = stop;
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (duration > 0) setTimeout(stop, duration * 1000).unref();
    // close() delivers the results still in flight after stop(); they count against --max-frames too.
    const accept = (): boolean => {
      if (maxFrames > 0 && count >= maxFrames) return false;
      if (maxFrames > 0 && ++count >= maxFrames) stop();
      return true;
    };
    if (sink) sink.attach(cameras, { accept });
    else {
      cameras.on('result', (r: FrameResult) => {
        if (accept()) resultsOut.write(JSON.stringify(toWireResult(r)));
      });
    }
    cameras.on('event', (e: CameraEvent) => {
      if (e.type === 'state') stderrLine(JSON.stringify(toWireStateMessage(e.cameraId, e.change)));
      else if (e.type === 'warning' || e.type === 'error') {
        if (e.type === 'error') failed = true;
        stderrLine(JSON.stringify(toWireErrorMessage(e.type, e.cameraId, e.error)));
      }
    });
    void cameras.whenAllEnded().then(stop);
  });
  const feeding = pushed.map(({ c }) =>
    runFeed(cameras.get(c.stream.id)!, c.feed!, c.stream.codec!, control, process.stdin).catch((err: unknown) => {
      if (control.stopped) return; // the run stopped under it (a push into a closing camera)
      failed = true;
      const e = err instanceof CamtrackError ? err : new CamtrackError(String((err as Error)?.message ?? err), 'ERR_CAMTRACK_SOURCE_READ');
      stderrLine(JSON.stringify(toWireErrorMessage('error', c.stream.id, e)));
      cameras.get(c.stream.id)?.end();
    }),
  );
  await done;
  control.stopped = true;
  if (pushed.some(({ c }) => c.feed?.stdin !== undefined)) process.stdin.destroy();
  await cameras.close();
  await Promise.allSettled(feeding);
  await outputs.close(5000);
  if (sink) {
    await sink.close();
    const s = sink.stats();
    stderrLine(formatRedisSummary(s, sink.options.output.key));
    // Results that could not be written before the end are lost: say so in the exit code.
    if (s.dropped.closed > 0) failed = true;
  }
  resultsOut.close();
  const out = resultsOut.stats();
  if (out.lost > 0) {
    // Results that could not be written are lost: say so, and in the exit code.
    stderrLine(formatOutputSummary(out));
    failed = true;
  }
  return failed ? 1 : 0;
}
