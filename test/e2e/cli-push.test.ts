/**
 * `camtrack run` with pushed cameras (input 'push', docs/push.md "Trying it without a server"): frames fed from a
 * directory of JPEGs (one bad file among them), from stdin as MJPEG (ffmpeg's `-f mjpeg -` output) and as
 * length-prefixed H.264 access units; each run prints one wire line per frame with the frame's position as frame_id,
 * ends when its feed does, exit code 0. A real process each; frames made by ffmpeg from the shared clip at test time.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';

import { assetPath, describeWithAssets, repoRoot } from '../helpers/assets.js';
import { lazyTempDir } from '../helpers/temp-dir.js';
import { expectValid, validateWireEvent, validateWireResult } from '../helpers/wire.js';

const MODEL = 'models/yolo11n_int8_320.onnx';
const WALKING = 'videos/walking.mp4';
const bin = path.join(repoRoot, 'bin', 'camtrack.js');
const tmp = lazyTempDir('camtrack-cli-push-');

function ffmpeg(args: string[]): Buffer {
  return execFileSync(process.env.FFMPEG_PATH || 'ffmpeg', ['-nostdin', '-v', 'error', '-y', ...args], { timeout: 120_000, maxBuffer: 1 << 28 });
}

function camtrackRun(config: string, input?: Buffer) {
  const r = spawnSync(process.execPath, [bin, 'run', '--config', config], {
    encoding: 'utf8',
    timeout: 240_000,
    ...(input ? { input } : { stdio: ['ignore', 'pipe', 'pipe'] }),
    env: { ...process.env, CAMTRACK_CACHE_DIR: path.join(tmp(), 'cache') },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface WireResult {
  camera_id: string;
  frame_id: number;
  pts: number;
  metadata: Record<string, unknown> | null;
  width: number;
  detections: unknown[];
}

function results(stdout: string): WireResult[] {
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const m = JSON.parse(l) as WireResult;
      expectValid(validateWireResult, m);
      return m;
    });
}

function events(stderr: string): { type: string; camera_id: string; state?: string; error?: { code: string; message: string } | null }[] {
  return stderr
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      const m = JSON.parse(l) as { type: string; camera_id: string };
      expectValid(validateWireEvent, m);
      return m;
    });
}

function config(name: string, camera: string): string {
  const file = path.join(tmp(), name);
  writeFileSync(file, [`model: ${assetPath(MODEL)}`, 'streams:', `  - ${camera}`, ''].join('\n'));
  return file;
}

describeWithAssets('camtrack run with pushed cameras', [MODEL, WALKING], () => {
  it('feed { dir }: every JPEG of the directory in name order, frame_id its position, metadata.file its name; a bad file warns', () => {
    const frames = path.join(tmp(), 'frames');
    mkdirSync(frames, { recursive: true });
    ffmpeg(['-i', assetPath(WALKING), '-frames:v', '12', '-c:v', 'mjpeg', '-q:v', '3', path.join(frames, '%d.jpg')]);
    writeFileSync(path.join(frames, '5b.jpg'), 'this is no JPEG'); // between 5.jpg and 6.jpg
    writeFileSync(path.join(frames, 'notes.txt'), 'skipped');
    // The directory is relative to the config file.
    const r = camtrackRun(config('dir.yaml', "{ id: dock, input: push, codec: jpeg, live: false, feed: { dir: frames, fps: 50 } }"));
    expect(r.status, r.stderr).toBe(0);
    const got = results(r.stdout);
    const names = ['1', '2', '3', '4', '5', '5b', '6', '7', '8', '9', '10', '11', '12'].map((n) => `${n}.jpg`);
    const good = names.map((file, i) => ({ file, i })).filter(({ file }) => file !== '5b.jpg');
    expect(got.map((m) => [m.frame_id, m.metadata?.file])).toEqual(good.map(({ file, i }) => [i, file]));
    // fps 50: pts advance by 20 ms per frame (the wire gives seconds).
    expect(got.map((m) => Math.round(m.pts * 1000))).toEqual(good.map(({ i }) => i * 20));
    for (const m of got) expect(m.width).toBe(1280);
    const ev = events(r.stderr);
    const warning = ev.find((e) => e.type === 'warning');
    expect(warning, r.stderr).toMatchObject({ camera_id: 'dock', error: { code: 'ERR_CAMTRACK_DECODE' } });
    expect(warning!.error!.message).toContain('pushed frame 5');
    expect(ev).toContainEqual(expect.objectContaining({ type: 'state', camera_id: 'dock', state: 'ended' }));
  });

  it("feed { stdin: 'mjpeg' }: ffmpeg's MJPEG output piped in, one result per frame in order", () => {
    const mjpeg = ffmpeg(['-i', assetPath(WALKING), '-frames:v', '20', '-c:v', 'mjpeg', '-q:v', '3', '-f', 'mjpeg', '-']);
    const r = camtrackRun(config('stdin.yaml', "{ id: pipe, input: push, codec: jpeg, live: false, feed: { stdin: mjpeg } }"), mjpeg);
    expect(r.status, r.stderr).toBe(0);
    expect(results(r.stdout).map((m) => m.frame_id)).toEqual([...Array(20).keys()]);
    expect(events(r.stderr)).toContainEqual(expect.objectContaining({ type: 'state', camera_id: 'pipe', state: 'ended' }));
  });

  it("feed { stdin: 'length-prefixed' }: H.264 access units, each picture once (display order), every frame_id", () => {
    const h264 = path.join(tmp(), 'walking.h264');
    ffmpeg(['-i', assetPath(WALKING), '-frames:v', '30', '-an', '-c:v', 'copy', '-bsf:v', 'h264_mp4toannexb,h264_metadata=aud=insert', '-f', 'h264', h264]);
    const b = readFileSync(h264);
    const starts: number[] = [];
    for (let i = 0; i + 3 < b.length; i++) {
      if (b[i] === 0 && b[i + 1] === 0 && b[i + 2] === 1 && (b[i + 3]! & 0x1f) === 9) starts.push(i > 0 && b[i - 1] === 0 ? i - 1 : i);
    }
    const input = Buffer.concat(
      starts.flatMap((s, k) => {
        const au = b.subarray(s, k + 1 < starts.length ? starts[k + 1] : b.length);
        const len = Buffer.alloc(4);
        len.writeUInt32BE(au.length);
        return [len, au];
      }),
    );
    const r = camtrackRun(config('lp.yaml', "{ id: h264, input: push, codec: h264, live: false, feed: { stdin: length-prefixed } }"), input);
    expect(r.status, r.stderr).toBe(0);
    const got = results(r.stdout);
    expect(starts).toHaveLength(30);
    expect(got.map((m) => m.frame_id).sort((x, y) => x - y)).toEqual([...Array(30).keys()]);
  });

  it('EXPECTED FAILURE - a pushed camera without a feed, or a feed on a url camera: the path, exit 1', () => {
    let r = camtrackRun(config('nofeed.yaml', '{ id: dock, input: push, codec: jpeg }'));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('streams[0].feed');
    r = camtrackRun(config('urlfeed.yaml', `{ id: cam, url: ${assetPath(WALKING)}, feed: { stdin: mjpeg } }`));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("streams[0].feed: feed is only for input 'push'");
  });
});
