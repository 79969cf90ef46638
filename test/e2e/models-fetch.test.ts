/**
 * `camtrack models list` and `camtrack models fetch NAME` (issue 8, item 7) as a user runs them: a real CLI process
 * downloads from a real HTTP server on 127.0.0.1 that serves the shared asset file (the mirror override --base-url /
 * CAMTRACK_MODELS_BASE_URL; the internet is not needed), intact, corrupted or missing.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { assetPath, describeWithAssets, repoRoot } from '../helpers/assets.js';
import { lazyTempDir } from '../helpers/temp-dir.js';

const NAME = 'yolo11n_int8_320';
/** SOURCES.md: yolo11n_int8_320.onnx, its origin and checksum. */
const SIZE = 2_923_867;
const SHA256 = '5ea9b19c6c4d89041175fd2d4f9d2e1581d16f37b817021d547278fc5e2f2b58';
const ORIGIN_URL = 'https://raw.githubusercontent.com/achmadnr21/mwc-rpi5/c08389a78c8b363d82fde443b3a12ecd5ff73fc5/yolo11n_int8.onnx';
const NAMES = ['yolox_nano', 'yolov8n_int8', 'yolo11n_int8_320', 'yolo26n_int8_e2e'];

const tmp = lazyTempDir('camtrack-models-');

/** The CLI as a child process (async: the HTTP server runs on this thread). */
function camtrack(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'camtrack.js'), ...args], {
    env: { ...process.env, CAMTRACK_MODELS_BASE_URL: '', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    }),
  );
}

/** A fresh, empty output folder. */
function outDir(name: string): string {
  const dir = path.join(tmp(), name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe('camtrack models list', () => {
  it('lists every fetchable model with its pinned URL, checksum and license', async () => {
    const r = await camtrack(['models', 'list']);
    expect(r.status).toBe(0);
    for (const name of NAMES) expect(r.stdout).toMatch(new RegExp(`^${name} `, 'm'));
    expect(r.stdout).toContain(ORIGIN_URL);
    expect(r.stdout).toContain(`sha256 ${SHA256}`);
    expect(r.stdout.match(/license AGPL-3\.0/g)).toHaveLength(3); // the three Ultralytics models
    expect(r.stdout).toMatch(/^yolox_nano .*license Apache-2\.0/m);
  });
});

describeWithAssets('camtrack models fetch', [`models/${NAME}.onnx`], () => {
  let server: http.Server;
  let base: string;
  let requests = 0;
  beforeAll(async () => {
    const good = readFileSync(assetPath(`models/${NAME}.onnx`));
    const corrupt = Buffer.from(good);
    corrupt[corrupt.length >> 1] ^= 0xff; // same size, one byte off
    const files: Record<string, Buffer> = { [`/good/${NAME}.onnx`]: good, [`/corrupt/${NAME}.onnx`]: corrupt };
    server = http.createServer((req, res) => {
      requests++;
      const body = files[req.url ?? ''];
      res.writeHead(body ? 200 : 404, { 'content-type': 'application/octet-stream' }).end(body ?? 'not found');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server?.close(() => resolve())));

  it('downloads from the mirror, verifies size and sha256, writes <name>.onnx and nothing else', async () => {
    const dir = outDir('good');
    const r = await camtrack(['models', 'fetch', NAME, '--out', dir, '--base-url', `${base}/good/`]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const file = path.join(dir, `${NAME}.onnx`);
    expect(r.stdout).toContain(`${file} (downloaded, sha256 ${SHA256} verified)`);
    expect(readdirSync(dir)).toEqual([`${NAME}.onnx`]);
    const bytes = readFileSync(file);
    expect(bytes.length).toBe(SIZE);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(SHA256);
    expect(bytes.equals(readFileSync(assetPath(`models/${NAME}.onnx`)))).toBe(true);

    // Again, mirror from the environment: the verified file is kept, nothing is downloaded.
    const before = requests;
    const again = await camtrack(['models', 'fetch', NAME, '--out', dir], { CAMTRACK_MODELS_BASE_URL: `${base}/good` });
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('already there');
    expect(requests).toBe(before);
  });

  it('EXPECTED FAILURE - a corrupted body is ERR_CAMTRACK_DOWNLOAD and leaves nothing behind', async () => {
    const dir = outDir('corrupt');
    const r = await camtrack(['models', 'fetch', NAME, '--out', dir, '--base-url', `${base}/corrupt`]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`camtrack models fetch: [ERR_CAMTRACK_DOWNLOAD] ${NAME}: ${base}/corrupt/${NAME}.onnx sent another file than the pinned one`);
    expect(r.stderr).toContain(`expected ${SHA256}; nothing was written`);
    expect(r.stderr).toContain(`hint: the server (or a proxy, or --base-url's mirror) sent a different file; download ${ORIGIN_URL} by hand`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('EXPECTED FAILURE - a different file already there is kept unless --force', async () => {
    const dir = outDir('present');
    const file = path.join(dir, `${NAME}.onnx`);
    writeFileSync(file, 'not a model');
    const r = await camtrack(['models', 'fetch', NAME, '--out', dir, '--base-url', `${base}/good`]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('already exists and is not the pinned file');
    expect(r.stderr).toContain('hint: pass --force to replace it');
    expect(readFileSync(file, 'utf8')).toBe('not a model');
    const forced = await camtrack(['models', 'fetch', NAME, '--out', dir, '--base-url', `${base}/good`, '--force']);
    expect(forced.status).toBe(0);
    expect(readFileSync(file).length).toBe(SIZE);
  });

  it('EXPECTED FAILURE - HTTP 404 is ERR_CAMTRACK_DOWNLOAD saying where to get the file by hand', async () => {
    const dir = outDir('404');
    const r = await camtrack(['models', 'fetch', NAME, '--out', dir, '--base-url', `${base}/nowhere`]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`[ERR_CAMTRACK_DOWNLOAD] ${NAME}: cannot download ${base}/nowhere/${NAME}.onnx: HTTP 404 Not Found`);
    expect(r.stderr).toContain(`hint: download ${ORIGIN_URL} by hand`);
    expect(r.stderr).toContain(`check that its sha256 is ${SHA256}, and save it as ${path.join(dir, `${NAME}.onnx`)}`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('EXPECTED FAILURE - no server (no network) is ERR_CAMTRACK_DOWNLOAD saying where to get the file by hand', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const dir = outDir('offline');
    const r = await camtrack(['models', 'fetch', NAME, '--out', dir, '--base-url', `http://127.0.0.1:${port}`]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`[ERR_CAMTRACK_DOWNLOAD] ${NAME}: cannot download http://127.0.0.1:${port}/${NAME}.onnx: connect ECONNREFUSED`);
    expect(r.stderr).toContain(`hint: download ${ORIGIN_URL} by hand`);
    expect(existsSync(path.join(dir, `${NAME}.onnx`))).toBe(false);
  });

  it('BAD CALL - an unknown NAME exits 2 listing the known names', async () => {
    const r = await camtrack(['models', 'fetch', 'yolov99', '--base-url', `${base}/good`]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      `camtrack models fetch: [ERR_CAMTRACK_INVALID_ARGUMENT] command-argument value 'yolov99' is invalid for argument 'name'. Allowed choices are ${NAMES.join(', ')}.`,
    );
  });
});
