/**
 * A real RTSP server on loopback for tests: starts test/helpers/rtsp_server.py (GStreamer gst-rtsp-server via
 * /usr/bin/python3 + python3-gi) as a tracked child process group and waits for its "READY <port>" line.
 *
 *   const server = await startRtspServer({ mounts: { '/walk': `file:${assetPath('videos/walking.mp4')}`,
 *                                                    '/cam': 'live:640x360@25' } });
 *   server.url('/walk')  // rtsp://127.0.0.1:<port>/walk
 *   await server.stop();
 *
 * Mount specs are documented in rtsp_server.py: `file:<path>`, `live:<W>x<H>@<FPS>[,h264|h265]`,
 * `udp:<port>[,h264|h265]` (relay of an MPEG-TS publisher); `file:` also takes MPEG-TS (*.ts). Both UDP and TCP
 * RTP transports are offered. `auth: { user, password }` requires RTSP basic authentication on every mount.
 * To simulate a crash, `stop('SIGKILL')`; start again with the same `port` to bring the server back.
 *
 * Ownership: the caller owns the returned handle and must call stop() (e.g. in afterAll); processes.ts also
 * kills the group when the test worker exits. Not shared between test files.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { isRunning, spawnTracked, stopProcess } from './processes.js';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'rtsp_server.py');
/** Python with the distribution's gi bindings (a virtualenv python would not see them). */
export const SYSTEM_PYTHON = '/usr/bin/python3';

/** Options for {@link startRtspServer}. */
export interface RtspServerOptions {
  /** Mount path (starting with '/') → spec. At least one. */
  mounts: Record<string, string>;
  /** TCP port; default 0 = the server picks a free one. */
  port?: number;
  /** How long to wait for READY. Default 10000 ms. */
  readyTimeoutMs?: number;
  /** Require RTSP basic authentication with these credentials. */
  auth?: { user: string; password: string };
}

/** A running server. */
export interface RtspServer {
  port: number;
  /** `rtsp://127.0.0.1:<port><mount>`. */
  url(mount: string): string;
  /** Everything the server wrote on stderr so far (GStreamer warnings, errors). */
  stderr(): string;
  /** SIGTERM (or `signal`) to the process group, SIGKILL after 3 s; resolves when it has exited. Idempotent. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  readonly process: ChildProcess;
}

/**
 * Why the RTSP harness cannot run here, or undefined when it can: checks that /usr/bin/python3 imports
 * GStreamer's RTSP server bindings (synchronous, ~0.1 s; call once per file at collection time).
 */
export function rtspServerUnavailableReason(): string | undefined {
  if (!existsSync(SYSTEM_PYTHON)) return `${SYSTEM_PYTHON} not found`;
  const probe = spawnSync(
    SYSTEM_PYTHON,
    ['-c', "import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0')"],
    { encoding: 'utf8', timeout: 10_000 },
  );
  if (probe.status !== 0) {
    return (
      'GStreamer RTSP server bindings missing for /usr/bin/python3 ' +
      `(run scripts/install-system-deps.sh --with-test-deps): ${(probe.stderr ?? '').trim().split('\n').pop() ?? ''}`
    );
  }
  return undefined;
}

/** Starts the server and resolves once it listens; rejects (and kills it) if it exits or is not READY in time. */
export async function startRtspServer(options: RtspServerOptions): Promise<RtspServer> {
  const entries = Object.entries(options.mounts);
  if (entries.length === 0) throw new RangeError('Expected at least one mount for mounts but received none');
  const args = [SCRIPT, '--port', String(options.port ?? 0)];
  for (const [mount, spec] of entries) {
    if (!mount.startsWith('/')) throw new RangeError(`Expected mount path starting with '/' but received '${mount}'`);
    args.push('--mount', `${mount}=${spec}`);
  }
  if (options.auth) args.push('--auth', `${options.auth.user}:${options.auth.password}`);
  const child = spawnTracked(SYSTEM_PYTHON, args);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const timeoutMs = options.readyTimeoutMs ?? 10_000;

  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      let stdout = '';
      const timer = setTimeout(
        () => reject(new Error(`RTSP server not READY within ${timeoutMs} ms; stderr:\n${stderr}`)),
        timeoutMs,
      );
      child.stdout?.setEncoding('utf8').on('data', (d: string) => {
        stdout += d;
        const m = /^READY (\d+)$/m.exec(stdout);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`RTSP server exited (code ${code}, signal ${signal}) before READY; stderr:\n${stderr}`));
      });
    });
  } catch (e) {
    await stopProcess(child, 'SIGKILL', 1000);
    throw e;
  }

  return {
    port,
    url: (mount: string) => `rtsp://127.0.0.1:${port}${mount.startsWith('/') ? mount : `/${mount}`}`,
    stderr: () => stderr,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (isRunning(child)) await stopProcess(child, signal, 3000);
    },
    process: child,
  };
}
