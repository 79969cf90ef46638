/**
 * Child processes for tests: every process started here runs in its own process group and is remembered, so it
 * (and anything it spawned, e.g. `timeout` → ffprobe) can be killed by group id. Tracked groups are killed
 * when the test worker exits; call {@link killAllTracked} in `afterAll` to clean up earlier.
 *
 * Also: free ports, waiting for a TCP port, and a bounded "run to completion" helper for CLI tools that may
 * hang (ffprobe/ffmpeg readers of a vanished source): it wraps the command in `timeout -k 2 <s>`.
 *
 * Single-threaded (the test worker's event loop); the registry is module state shared by the test file.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';

const tracked = new Set<ChildProcess>();

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal); // the whole group (detached: true made the child its leader)
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

process.on('exit', () => {
  for (const child of tracked) killGroup(child, 'SIGKILL');
});

/**
 * Spawns `command` in a new process group and tracks it until it exits. stdio defaults to pipes.
 * The caller owns the returned ChildProcess; stop it with {@link stopProcess}.
 */
export function spawnTracked(command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options, detached: true });
  tracked.add(child);
  child.once('exit', () => tracked.delete(child));
  child.once('error', () => tracked.delete(child));
  return child;
}

/** True while the child has neither exited nor been killed by a signal. */
export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/**
 * Sends `signal` (default SIGTERM) to the child's process group and waits for it to exit; after `graceMs`
 * (default 3000) sends SIGKILL. Resolves once it has exited. Safe to call twice.
 */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 3000): Promise<void> {
  if (!isRunning(child) || child.pid === undefined) {
    tracked.delete(child);
    return;
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  killGroup(child, signal);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), graceMs);
  });
  const late = await Promise.race([exited.then(() => false), timedOut]);
  clearTimeout(timer);
  if (late) {
    killGroup(child, 'SIGKILL');
    await exited;
  }
  tracked.delete(child);
}

/** Stops every tracked process (SIGTERM, then SIGKILL after the grace period). For `afterAll`. */
export async function killAllTracked(graceMs = 3000): Promise<void> {
  await Promise.all([...tracked].map((c) => stopProcess(c, 'SIGTERM', graceMs)));
}

/**
 * A port that was free on 127.0.0.1 a moment ago (the OS picks it; another process could take it before use).
 * `kind` 'udp' checks a UDP port instead of TCP.
 */
export async function freePort(kind: 'tcp' | 'udp' = 'tcp'): Promise<number> {
  if (kind === 'udp') {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(0, '127.0.0.1', () => resolve());
    });
    const { port } = sock.address();
    await new Promise<void>((resolve) => sock.close(() => resolve()));
    return port;
  }
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('could not read the bound port');
  return address.port;
}

/** Resolves once a TCP connection to host:port succeeds; rejects after `timeoutMs`. Polls every 50 ms. */
export async function waitForPort(port: number, timeoutMs: number, host = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect({ port, host });
      sock.setTimeout(500);
      sock.once('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('timeout', () => {
        sock.destroy();
        resolve(false);
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() >= deadline) throw new Error(`port ${host}:${port} did not open within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Result of {@link runBounded}. */
export interface RunResult {
  /** Exit code; 124 when `timeout` killed the command, null when killed by a signal. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** True when the time limit was reached (exit code 124 or 137). */
  timedOut: boolean;
}

/**
 * Runs `command args…` to completion under `timeout -k 2 <timeoutS>` (coreutils), tracked like
 * {@link spawnTracked}. Never rejects for a non-zero exit; rejects only if the process cannot be started.
 */
export async function runBounded(command: string, args: readonly string[], timeoutS: number): Promise<RunResult> {
  const child = spawnTracked('timeout', ['-k', '2', String(timeoutS), command, ...args]);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c));
  });
  return { code, stdout, stderr, timedOut: code === 124 || code === 137 };
}
