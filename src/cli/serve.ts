/**
 * `camtrack serve [--config serve.yaml] [--model M] [--host H] [--port N] [--token T] [--tls-cert F --tls-key F]
 * [--redis URL]`: the service (src/server/app.ts, docs/serve.md). Its settings are the config file's `serve` section,
 * overridden by the environment (CAMTRACK_TOKEN), overridden by the flags. Logs are pino JSON lines on stdout.
 * Stops on SIGTERM/SIGINT: stops accepting, ends the readers, closes the cameras; exit code 0. A non-loopback host
 * without a token refuses to start (exit code 2).
 */
import path from 'node:path';

import type { CameraRegistryConfig } from '../config.js';
import { InsecureBindError } from '../server/auth.js';
import { buildServer } from '../server/app.js';
import { UsageError } from './args.js';
import { loadConfigFile } from './run.js';

/** Options of `camtrack serve` (declared in main.ts). */
export interface ServeCliOptions {
  config?: string;
  model?: string;
  host?: string;
  port?: number;
  token?: string;
  tlsCert?: string;
  tlsKey?: string;
  redis?: string;
  grpcPort?: number;
}

/** The service's config: the file (if any), then CAMTRACK_TOKEN, then the flags. */
export async function serveConfig(o: ServeCliOptions, env: NodeJS.ProcessEnv = process.env): Promise<CameraRegistryConfig> {
  const cfg: Record<string, unknown> = o.config !== undefined ? await loadConfigFile(o.config) : {};
  if (o.model !== undefined) cfg.model = path.resolve(o.model);
  const serve = { ...((cfg.serve ?? {}) as Record<string, unknown>) };
  // TLS files and the state file of the config file are relative to it.
  const dir = o.config !== undefined ? path.dirname(path.resolve(o.config)) : process.cwd();
  for (const k of ['tlsCert', 'tlsKey', 'stateFile']) if (typeof serve[k] === 'string') serve[k] = path.resolve(dir, serve[k] as string);
  if (env.CAMTRACK_TOKEN !== undefined && env.CAMTRACK_TOKEN !== '') serve.token = env.CAMTRACK_TOKEN;
  if (o.token !== undefined) serve.token = o.token;
  if (o.host !== undefined) serve.host = o.host;
  if (o.port !== undefined) serve.port = o.port;
  if (o.tlsCert !== undefined) serve.tlsCert = path.resolve(o.tlsCert);
  if (o.tlsKey !== undefined) serve.tlsKey = path.resolve(o.tlsKey);
  if (o.grpcPort !== undefined) serve.grpc = { ...((serve.grpc ?? {}) as Record<string, unknown>), port: o.grpcPort };
  cfg.serve = serve;
  if (o.redis !== undefined) cfg.redis = { ...((cfg.redis ?? {}) as Record<string, unknown>), url: o.redis };
  if (cfg.model === undefined && cfg.models === undefined) throw new UsageError('Expected --model or a config file (--config) with `model` or `models`');
  return cfg as CameraRegistryConfig;
}

export async function runServe(o: ServeCliOptions): Promise<number> {
  const config = await serveConfig(o);
  let server;
  try {
    server = await buildServer({ config, ...(o.config !== undefined ? { configFile: o.config } : {}) });
  } catch (err) {
    if (!(err instanceof InsecureBindError)) throw err;
    console.error(`camtrack serve: [${err.code}] ${err.message}`);
    console.error(`  hint: ${err.hint}`);
    return 2;
  }
  server.context.log.info({ url: server.url, state: server.context.managed.store.where, ...(server.grpc ? { grpc_port: server.grpc.port } : {}) }, 'camtrack serve ready for requests');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  server.context.log.info('shutting down');
  await server.close();
  return 0;
}
