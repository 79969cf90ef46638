/**
 * A real MQTT broker on loopback for tests: Debian's `mosquitto` (scripts/install-system-deps.sh --with-test-deps),
 * started as a tracked child process on a free port with a config file in a temporary directory (anonymous clients,
 * no persistence), like ./redis-server.ts.
 *
 *   const broker = await startMosquitto();
 *   broker.url()                                   // mqtt://127.0.0.1:<port>
 *   await broker.stop('SIGKILL'); await broker.start();   // killed and back on the same port
 *   await broker.dispose();
 */
import { type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { freePort, isRunning, spawnTracked, stopProcess, waitForPort } from './processes.js';

export const MOSQUITTO = '/usr/sbin/mosquitto';

/** Why the broker cannot run here, or undefined. */
export function mosquittoUnavailableReason(): string | undefined {
  return existsSync(MOSQUITTO) ? undefined : `${MOSQUITTO} not found (Debian package mosquitto: scripts/install-system-deps.sh --with-test-deps)`;
}

export interface Mosquitto {
  readonly port: number;
  url(): string;
  start(): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<void>;
  dispose(): Promise<void>;
  log(): string;
}

export async function startMosquitto(): Promise<Mosquitto> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'camtrack-mosquitto-'));
  const conf = path.join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n`);
  let child: ChildProcess | undefined;
  let log = '';
  const start = async (): Promise<void> => {
    const c = spawnTracked(MOSQUITTO, ['-c', conf]);
    child = c;
    c.stdout?.setEncoding('utf8').on('data', (d: string) => (log += d));
    c.stderr?.setEncoding('utf8').on('data', (d: string) => (log += d));
    await waitForPort(port, 10_000);
  };
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    if (child && isRunning(child)) await stopProcess(child, signal, 3000);
  };
  await start();
  return {
    port,
    url: () => `mqtt://127.0.0.1:${port}`,
    start,
    stop,
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    log: () => log,
  };
}
