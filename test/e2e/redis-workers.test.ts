/**
 * Several `camtrack worker` processes sharing cameras through Redis (src/sources/leases.ts): 3 workers, 4 cameras
 * fed at 4 fps each (a producer in the test, JPEG entries), the null processor with a 600 ms delay per frame so that
 * every worker always has frames in flight. One worker SIGKILLed mid-run: its cameras produce results again within
 * 10 s (default lease TTL 5 s, heartbeat 1 s). Another SIGSTOPped past the TTL, then SIGCONT: its late writes are
 * refused by fencing (counted in its summary), and it gets cameras back. At the end, for every camera: every input
 * entry has exactly one output entry, in input order (so no camera was processed by two workers at once: a second
 * writer would have written a duplicate or out of order), nothing pending, and the leases were released.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { rendezvousOwner } from '../../src/sources/leases.js';
import { assetPath, describeWithAssets, repoRoot } from '../helpers/assets.js';
import { killAllTracked, spawnTracked } from '../helpers/processes.js';
import { describeRedis, startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { lazyTempDir } from '../helpers/temp-dir.js';

const bin = path.join(repoRoot, 'bin', 'camtrack.js');
const tmp = lazyTempDir('camtrack-workers-');
const CAMERAS = ['c0', 'c1', 'c2', 'c3'];
const FPS = 4;
const DELAY_MS = 600;
/** Default lease TTL (docs/redis.md): a dead worker's cameras move after about this long. */
const TTL_MS = 5000;

interface Summary {
  consumer: string;
  cameras: Record<string, { read: number; written: number; claimed: number; leased: number; dropped: Record<string, number> }>;
}

function startWorker(name: string, url: string) {
  const child = spawnTracked(process.execPath, [
    bin, 'worker', '--redis', url, '--no-inference', '--delay-ms', String(DELAY_MS), '--cameras', CAMERAS.join(','), '--consumer', name, '--json',
  ]);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ status: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (status, signal) => resolve({ status, signal })));
  return { name, child, exited, stdout: () => stdout, stderr: () => stderr };
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describeRedis('camtrack worker × 3', () => {
  let server: RedisServer;
  let client: Redis;
  beforeAll(async () => {
    server = await startRedisServer();
    client = new Redis(server.url());
  });
  afterAll(async () => {
    client?.disconnect();
    await server?.dispose();
    await killAllTracked();
  });

  /** Owner (consumer name) of each camera's lease now. */
  const owners = async (): Promise<Record<string, string | undefined>> => {
    const out: Record<string, string | undefined> = {};
    for (const c of CAMERAS) out[c] = (await client.get(`camtrack:lease:${c}`))?.split(' ')[0];
    return out;
  };
  /** Id time (ms) of the newest output entry of a camera, or 0. */
  const lastOutputMs = async (camera: string): Promise<number> => {
    const [e] = await client.xrevrange(`camera_${camera}_output`, '+', '-', 'COUNT', 1);
    return e ? Number(e[0].split('-')[0]) : 0;
  };
  const serverMs = async (): Promise<number> => {
    const [s, us] = await client.time();
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  };

  describeWithAssets('SIGKILL, SIGSTOP/SIGCONT', ['images/zidane.jpg'], () => {
    it('cameras move within 10 s of a SIGKILL; a paused worker is fenced; every input ends with exactly one output, in order', async () => {
      const jpeg = readFileSync(assetPath('images/zidane.jpg'));
      const inputs: Record<string, string[]> = Object.fromEntries(CAMERAS.map((c) => [c, []]));
      const producer = new Redis(server.url());
      let producing = true;
      const produce = (async () => {
        let n = 0;
        while (producing) {
          const t = Date.now();
          for (const c of CAMERAS) inputs[c]!.push((await producer.xadd(`camera_${c}_input`, '*', 'frame', jpeg, 'frame_id', String(n)))!);
          n++;
          await new Promise((r) => setTimeout(r, Math.max(0, 1000 / FPS - (Date.now() - t))));
        }
      })();
      const workers = ['w1', 'w2', 'w3'].map((n) => startWorker(n, server.url()));
      const log: string[] = [];
      try {
        await waitFor('every camera leased and producing', async () => {
          const o = await owners();
          return CAMERAS.every((c) => o[c] !== undefined) && (await Promise.all(CAMERAS.map((c) => client.xlen(`camera_${c}_output`)))).every((n) => n > 0);
        }, 30_000);
        // The first worker up takes every camera; as the others join, each camera moves to its rendezvous owner.
        const placed = Object.fromEntries(CAMERAS.map((c) => [c, rendezvousOwner(['w1', 'w2', 'w3'], c)]));
        await waitFor('the rendezvous placement over 3 workers', async () => JSON.stringify(await owners()) === JSON.stringify(placed), 30_000);
        log.push(`owners at start: ${JSON.stringify(await owners())}`);

        // SIGKILL the worker with the most cameras.
        const o1 = await owners();
        const count = (w: string, o: Record<string, string | undefined>): number => CAMERAS.filter((c) => o[c] === w).length;
        const victim = [...workers].sort((a, b) => count(b.name, o1) - count(a.name, o1))[0]!;
        const moved = CAMERAS.filter((c) => o1[c] === victim.name);
        expect(moved.length).toBeGreaterThan(0);
        const killedAt = await serverMs();
        victim.child.kill('SIGKILL');
        for (const c of moved) {
          await waitFor(`${c} producing again after the kill`, async () => (await lastOutputMs(c)) > killedAt + DELAY_MS + 100, 20_000);
          const back = await client.xrange(`camera_${c}_output`, `${killedAt + DELAY_MS + 101}`, '+', 'COUNT', 1);
          // The first output written after the kill by a new owner (the victim's last in-flight writes end within DELAY_MS).
          const gapMs = Number(back[0]![0].split('-')[0]) - killedAt;
          log.push(`${c}: results again ${gapMs} ms after SIGKILL of ${victim.name}`);
          expect(gapMs, c).toBeLessThanOrEqual(10_000);
        }
        const o2 = await owners();
        for (const c of moved) expect(o2[c]).not.toBe(victim.name);

        // SIGSTOP a survivor that holds cameras, past the TTL; the other takes them; SIGCONT: its late writes are fenced.
        const alive = workers.filter((w) => w !== victim);
        const paused = alive.find((w) => count(w.name, o2) > 0)!;
        const other = alive.find((w) => w !== paused)!;
        log.push(`SIGKILL at ${killedAt}; SIGSTOP of ${paused.name} at ${await serverMs()}`);
        paused.child.kill('SIGSTOP');
        const pausedCams = CAMERAS.filter((c) => o2[c] === paused.name);
        await waitFor('the other worker owning every camera', async () => Object.values(await owners()).every((w) => w === other.name), TTL_MS + 10_000);
        log.push(`while ${paused.name} is stopped: ${JSON.stringify(await owners())}`);
        log.push(`SIGCONT at ${await serverMs()}`);
        paused.child.kill('SIGCONT');
        // It comes back as a live worker and gets cameras again (hand-over from the other one).
        await waitFor(`${paused.name} owning a camera again`, async () => Object.values(await owners()).includes(paused.name), 20_000);
        log.push(`after SIGCONT: ${JSON.stringify(await owners())}`);
        await new Promise((r) => setTimeout(r, 2000));
      } finally {
        producing = false;
        await produce;
        producer.disconnect();
      }
      // Drain: every input gets its output, then stop the workers (SIGTERM: finish, release, exit 0).
      const survivors = workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
      await waitFor('every input written', async () => {
        for (const c of CAMERAS) if ((await client.xlen(`camera_${c}_output`)) < inputs[c]!.length) return false;
        return true;
      }, 30_000);
      for (const w of survivors) w.child.kill('SIGTERM');
      const exits = await Promise.all(survivors.map((w) => w.exited));
      for (const [i, e] of exits.entries()) expect(e, survivors[i]!.stderr().slice(-2000)).toEqual({ status: 0, signal: null });
      const summaries = survivors.map((w) => JSON.parse(w.stdout()) as Summary);
      for (const s of summaries) log.push(`${s.consumer}: ${JSON.stringify(s.cameras)}`);
      console.log(log.join('\n'));

      for (const c of CAMERAS) {
        const entries = await client.xrange(`camera_${c}_output`, '-', '+');
        const keys = entries.map(([, f]) => (JSON.parse(f[1]!) as { message_key: string }).message_key);
        // Exactly one output per input, in input order.
        const first = keys.findIndex((k, i) => k !== inputs[c]![i]);
        if (first >= 0 || keys.length !== inputs[c]!.length) {
          const dup = keys.filter((k, i) => keys.indexOf(k) !== i);
          const missing = inputs[c]!.filter((k) => !keys.includes(k));
          console.log(`${c}: written at ${entries.slice(Math.max(0, first - 2), first + 4).map(([id]) => id).join(' ')}`);
          console.log(`${c}: first mismatch at ${first}: got ${keys.slice(Math.max(0, first - 2), first + 4).join(' ')} want ${inputs[c]!.slice(Math.max(0, first - 2), first + 4).join(' ')}; duplicates ${dup.join(' ')}; missing ${missing.join(' ')}`);
        }
        expect(keys, c).toEqual(inputs[c]);
        expect(((await client.xpending(`camera_${c}_input`, `inference_consumer_${c}`)) as [number])[0], c).toBe(0);
        expect(await client.exists(`camtrack:lease:${c}`), c).toBe(0);
      }
      // The paused worker's results that came after its leases had moved were refused.
      const pausedSummary = summaries.find((s) => s.consumer !== undefined && Object.values(s.cameras).some((x) => (x.dropped.fenced ?? 0) > 0));
      expect(pausedSummary, 'a summary with fenced writes').toBeDefined();
      // Both survivors took cameras more than once (moves back and forth), the victim's via claims.
      expect(summaries.reduce((n, s) => n + Object.values(s.cameras).reduce((k, x) => k + x.claimed, 0), 0)).toBeGreaterThan(0);
      // The stopped workers left the live set; the SIGKILLed one's entry expired (dropped by the others' heartbeats).
      expect(await client.zcard('camtrack:workers')).toBe(0);
    });
  });
});
