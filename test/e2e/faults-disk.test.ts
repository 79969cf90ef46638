/**
 * Disk full for what camtrack writes to disk: `camtrack run` writes its results as wire JSON lines on stdout, which
 * users redirect to a file (the only file output of src/sinks/ today; the other sinks are network ones). Before,
 * Node's stdout threw an unhandled ENOSPC and the process died; now src/sinks/lines.ts counts the lost lines.
 *
 * - stdout on /dev/full (every write fails with ENOSPC): one ERR_CAMTRACK_OUTPUT warning with the disk-full hint,
 *   the run goes on to --max-frames and ends normally, the summary counts every result as lost, exit code 1.
 * - stdout on a small tmpfs (mounted by the test; root only, skipped with the reason otherwise) that fills up
 *   mid-run, then gets space back: the warning when it fills, one more when writing works again, the file holds
 *   whole JSON lines only (the part-line at the moment it filled was taken back), results after the gap are written,
 *   and written + lost = the results of the run.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statfsSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { assetPath, describeWithAssets, repoRoot } from '../helpers/assets.js';
import { killAllTracked, spawnTracked } from '../helpers/processes.js';
import { startServe } from '../helpers/serve.js';
import { lazyTempDir } from '../helpers/temp-dir.js';
import { expectValid, validateWireEvent, validateWireResult } from '../helpers/wire.js';

const FAST_MODEL = 'models/yolo11n_int8_320.onnx';
const WALKING = 'videos/walking.mp4';
const bin = path.join(repoRoot, 'bin', 'camtrack.js');
const tmp = lazyTempDir('camtrack-faults-disk-');

interface Line {
  type?: string;
  camera_id?: string | null;
  frame_id?: number;
  error?: { code: string; message: string; hint?: string };
}

/** Runs `camtrack run` with stdout on `stdoutPath`; `onStderr` sees stderr as it comes. */
function runTo(stdoutPath: string, args: string[], onStderr?: (text: string) => void): Promise<{ status: number | null; signal: NodeJS.Signals | null; stderr: string; ms: number }> {
  const fd = openSync(stdoutPath, 'w');
  const t0 = performance.now();
  const child = spawnTracked(process.execPath, [bin, 'run', ...args], { stdio: ['ignore', fd, 'pipe'] });
  closeSync(fd);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    onStderr?.(stderr);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
  return new Promise((resolve) =>
    child.once('exit', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stderr, ms: performance.now() - t0 });
    }),
  );
}

function writeConfig(): string {
  const cfg = path.join(tmp(), 'run.json');
  writeFileSync(cfg, JSON.stringify({ model: assetPath(FAST_MODEL), streams: [{ id: 'walk', url: assetPath(WALKING) }] }));
  return cfg;
}

const jsonLines = (text: string): Line[] =>
  text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);
const outputWarnings = (stderr: string): Line[] => jsonLines(stderr).filter((l) => l.type === 'warning' && l.error?.code === 'ERR_CAMTRACK_OUTPUT');

/** Why a tmpfs cannot be mounted here, or undefined (tries it: root and a kernel that lets this container mount). */
function tmpfsUnavailableReason(dir: string): string | undefined {
  if (process.getuid?.() !== 0) return 'not root: cannot mount a tmpfs';
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) return `mount -t tmpfs failed: ${(r.stderr || r.error?.message || '').trim()}`;
  return undefined;
}

describeWithAssets('Disk full under `camtrack run` (results on stdout)', [FAST_MODEL, WALKING], () => {
  afterAll(async () => {
    await killAllTracked();
  });

  it('stdout on /dev/full: one ERR_CAMTRACK_OUTPUT warning, the run goes on to its end, every result counted as lost, exit code 1', async () => {
    const r = await runTo('/dev/full', ['--config', writeConfig(), '--max-frames', '40']);
    expect(r.signal).toBeNull();
    expect(r.stderr).not.toMatch(/Unhandled 'error'|ENOSPC: no space left on device, write\n\s+at /);
    expect(r.status).toBe(1);
    const warnings = outputWarnings(r.stderr);
    expect(warnings).toHaveLength(1);
    expectValid(validateWireEvent, warnings[0]); // one wire format for the warning too
    expect(warnings[0]!.error!.message).toMatch(/cannot write to stdout \(ENOSPC\)/);
    expect(warnings[0]!.error!.hint).toMatch(/disk .* is full/);
    expect(r.stderr).toMatch(/camtrack run: 0 results written to stdout, 40 lost \(ENOSPC\)/);
    // The run reached its end normally: the stream was stopped by the run, not failed.
    const states = jsonLines(r.stderr).filter((l) => l.type === 'state' && l.camera_id === 'walk');
    expect(states.map((l) => (l as { state?: string }).state)).toEqual(['live', 'stopped']);
  }, 200_000);

  it('EXPECTED FAILURE - stdout into a pipe whose reader is gone (`camtrack run | true`): the run stops as on SIGPIPE, with one EPIPE warning, the count and exit code 1', () => {
    const cfg = writeConfig();
    const r = spawnSync('bash', ['-o', 'pipefail', '-c', `"${process.execPath}" "${bin}" run --config "${cfg}" --max-frames 300 | true`], { encoding: 'utf8', timeout: 180_000 });
    expect(r.signal).toBeNull();
    expect(r.stderr).not.toMatch(/Unhandled 'error'/);
    expect(r.status).toBe(1);
    const warnings = outputWarnings(r.stderr);
    expect(warnings).toHaveLength(1);
    expectValid(validateWireEvent, warnings[0]);
    expect(warnings[0]!.error!.message).toMatch(/cannot write to stdout \(EPIPE\)/);
    expect(warnings[0]!.error!.hint).toMatch(/reader of stdout went away/);
    const m = /camtrack run: (\d+) results written to stdout, (\d+) lost \(EPIPE\)/.exec(r.stderr);
    expect(m, r.stderr.slice(-2000)).not.toBeNull();
    expect(Number(m![2])).toBeGreaterThan(0);
    expect(Number(m![1]) + Number(m![2])).toBeLessThan(300);
    // It stopped (the stream was removed by the run), not failed.
    const states = jsonLines(r.stderr).filter((l) => l.type === 'state' && l.camera_id === 'walk');
    expect(states.map((l) => (l as { state?: string }).state)).toEqual(['live', 'stopped']);
  }, 200_000);

  describe('stdout on a tmpfs that fills up and gets space back', () => {
    let mountDir = '';
    let mounted = false;
    afterAll(() => {
      if (mounted) spawnSync('umount', ['-l', mountDir]);
    });

    /** Mounts the tmpfs once (or skips the test with the reason) and fills it up to about 12 kB free. */
    function fillTmpfs(ctx: { skip: () => void }, leaveBytes = 12 * 1024): string | undefined {
      if (!mounted) {
        mountDir = path.join(tmp(), 'tmpfs');
        const reason = tmpfsUnavailableReason(mountDir);
        if (reason !== undefined) {
          console.warn(`[camtrack tests] skipping the tmpfs disk-full test: ${reason}`);
          ctx.skip();
          return undefined;
        }
        mounted = true;
      }
      const filler = path.join(mountDir, 'filler');
      rmSync(filler, { force: true });
      const s = statfsSync(mountDir);
      writeFileSync(filler, Buffer.alloc(Math.max(0, s.bavail * s.bsize - leaveBytes)));
      return filler;
    }

    it('a disk that stays full: the half line at the moment it filled is cut off at the end, whole lines only, written + lost = all', async (ctx) => {
      const filler = fillTmpfs(ctx);
      if (filler === undefined) return;
      const out = path.join(mountDir, 'results-full.jsonl');
      const r = await runTo(out, ['--config', writeConfig(), '--max-frames', '40']);
      const text = readFileSync(out, 'utf8');
      rmSync(out, { force: true });
      rmSync(filler, { force: true });
      expect(r.signal).toBeNull();
      expect(r.status).toBe(1);
      expect(outputWarnings(r.stderr)).toHaveLength(1);
      const m = /camtrack run: (\d+) results written to stdout, (\d+) lost \(ENOSPC\)/.exec(r.stderr);
      expect(m, r.stderr.slice(-2000)).not.toBeNull();
      expect(Number(m![1]) + Number(m![2])).toBe(40);
      expect(Number(m![1])).toBeGreaterThan(0);
      expect(text.endsWith('\n')).toBe(true);
      const lines = jsonLines(text);
      expect(lines).toHaveLength(text.split('\n').length - 1);
      expect(lines).toHaveLength(Number(m![1]));
      expect(lines.map((l) => l.frame_id)).toEqual([...Array(lines.length).keys()]);
    }, 200_000);

    it('warns when full and when writing works again; whole lines only; results after the gap are written; written + lost = all', async (ctx) => {
      const filler = fillTmpfs(ctx);
      if (filler === undefined) return;
      const out = path.join(mountDir, 'results.jsonl');
      const maxFrames = 300;
      let freedAt = -1;
      const r = await runTo(out, ['--config', writeConfig(), '--max-frames', String(maxFrames)], (stderr) => {
        if (freedAt < 0 && outputWarnings(stderr).length >= 1) {
          freedAt = performance.now();
          // Space comes back 1.5 s later while the run goes on (results of those 1.5 s are lost; walking.mp4's 341
          // frames take far longer than that to run).
          setTimeout(() => unlinkSync(filler), 1500);
        }
      });
      const text = readFileSync(out, 'utf8');
      rmSync(out, { force: true });
      expect(r.signal).toBeNull();
      expect(r.status).toBe(1);
      expect(freedAt).toBeGreaterThan(0);
      const warnings = outputWarnings(r.stderr);
      expect(warnings.map((w) => w.error!.message.replace(/ after \d+ lines.*/, ' after …'))).toEqual([
        'cannot write to stdout (ENOSPC): results are lost and counted until writing works again',
        'writing to stdout works again after …',
      ]);
      const m = /camtrack run: (\d+) results written to stdout, (\d+) lost \(ENOSPC\)/.exec(r.stderr);
      expect(m, r.stderr.slice(-2000)).not.toBeNull();
      const written = Number(m![1]);
      const lost = Number(m![2]);
      expect(lost).toBeGreaterThan(0);
      expect(written + lost).toBe(maxFrames);
      // Whole lines only: every line parses, and their number is what the run says it wrote.
      expect(text.endsWith('\n')).toBe(true);
      const lines = jsonLines(text);
      expect(lines).toHaveLength(text.split('\n').length - 1);
      expect(lines).toHaveLength(written);
      for (const l of lines) expectValid(validateWireResult, l);
      for (const w of warnings) expectValid(validateWireEvent, w);
      // In frame order, with one gap (the lost results) and results after it.
      const idx = lines.map((l) => l.frame_id!);
      const gaps = idx.slice(1).map((v, i) => v - idx[i]!);
      expect(gaps.every((g) => g > 0)).toBe(true);
      const big = gaps.filter((g) => g > 1);
      expect(big).toHaveLength(1);
      expect(big[0]! - 1).toBe(lost);
      console.log(`[faults] disk full (tmpfs): ${written} results written, ${lost} lost and counted, run ${(r.ms / 1000).toFixed(1)} s`);
    }, 200_000);
    it('camtrack serve with its camera state file on a full disk: POST gets ERR_CAMTRACK_OUTPUT with the hint, the camera is not added, the running camera keeps delivering; with space back the same POST works', async (ctx) => {
      const filler = fillTmpfs(ctx, 0);
      if (filler === undefined) return;
      const token = 'faults-disk-token-123456';
      const stateFile = path.join(mountDir, 'serve.cameras.json');
      const s = await startServe({
        model: assetPath(FAST_MODEL),
        streams: [{ id: 'cfg', url: assetPath(WALKING), loop: true }],
        serve: { token, stateFile },
      } as never);
      try {
        await s.context.booted;
        const delivered = async (): Promise<number> => {
          const res = await s.inject({ method: 'GET', url: '/api/v1/cameras/cfg', headers: s.auth });
          return Number((JSON.parse(res.body) as { stats: { frames_delivered: number } }).stats.frames_delivered);
        };
        const post = () =>
          s.inject({ method: 'POST', url: '/api/v1/cameras', headers: { ...s.auth, 'content-type': 'application/json' }, payload: { id: 'added', url: assetPath(WALKING), loop: true } });
        const before = await delivered();
        const res = await post();
        expect(res.statusCode).toBe(500);
        const body = JSON.parse(res.body) as { error: { code: string; message: string; hint: string } };
        expect(body.error.code).toBe('ERR_CAMTRACK_OUTPUT');
        expect(body.error.message).toMatch(/cannot store camera "added" .*ENOSPC/);
        expect(body.error.hint).toMatch(/full: free space .*the camera was not added/);
        expect(res.body).not.toContain(token);
        const list = JSON.parse((await s.inject({ method: 'GET', url: '/api/v1/cameras', headers: s.auth })).body) as { cameras: { id: string }[] };
        expect(list.cameras.map((c) => c.id)).toEqual(['cfg']);
        // The running camera is not affected: it keeps delivering (event-driven wait, generous bound).
        const t0 = performance.now();
        while ((await delivered()) <= before + 5) {
          if (performance.now() - t0 > 30_000) throw new Error('the config camera stopped delivering');
          await new Promise((r) => setTimeout(r, 100));
        }
        // Space back: the same request stores the camera.
        rmSync(filler, { force: true });
        const again = await post();
        expect(again.statusCode, again.body).toBe(201);
        expect((JSON.parse(readFileSync(stateFile, 'utf8')) as { cameras: { id: string }[] }).cameras.map((c) => c.id)).toEqual(['added']);
      } finally {
        await s.close();
        rmSync(stateFile, { force: true });
      }
    }, 120_000);
  });
});
