/**
 * `camtrack serve` started as a user starts it, and over TLS: binding a non-loopback host without a token refuses to
 * start (exit code 2, the reason and the fix on stderr; buildServer() throws); with CAMTRACK_TOKEN it serves on
 * 0.0.0.0, its request logs never show the token (sent as ?token=), and SIGTERM stops it with exit code 0. TLS with a
 * self-signed certificate made by `openssl` here: HTTPS and wss:// with the certificate trusted, plain HTTP refused.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import WebSocket from 'ws';

import { buildServer } from '../../dist/server/app.js';
import { assetPath, describeWithAssets, repoRoot } from '../helpers/assets.js';
import { killAllTracked, spawnTracked } from '../helpers/processes.js';
import { startServe, waitFor, type TestServer } from '../helpers/serve.js';
import { lazyTempDir } from '../helpers/temp-dir.js';

const MODEL = 'models/yolo11n_int8_320.onnx';
const TOKEN = 'security-token-0123456789';
const bin = path.join(repoRoot, 'bin', 'camtrack.js');
const tmp = lazyTempDir('camtrack-serve-security-');

function get(url: string, ca: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describeWithAssets('camtrack serve: bind refusal, CLI lifecycle, TLS', [MODEL], () => {
  let tls: TestServer | undefined;
  afterAll(async () => {
    await tls?.close();
    await killAllTracked();
  });

  it('EXPECTED FAILURE - refuses 0.0.0.0 without a token: buildServer() throws, the CLI exits 2 saying why', async () => {
    await expect(buildServer({ config: { model: assetPath(MODEL), serve: { host: '0.0.0.0', port: 0 } }, logger: false })).rejects.toMatchObject({
      name: 'InsecureBindError',
      code: 'ERR_CAMTRACK_INVALID_ARGUMENT',
    });
    const env = { ...process.env };
    delete env.CAMTRACK_TOKEN;
    const r = spawnSync(process.execPath, [bin, 'serve', '--model', assetPath(MODEL), '--host', '0.0.0.0', '--port', '0'], { encoding: 'utf8', env, timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/\[ERR_CAMTRACK_INVALID_ARGUMENT\] Refusing to listen on 0\.0\.0\.0 without a token/);
    expect(r.stderr).toMatch(/hint: .*CAMTRACK_TOKEN/);
  }, 90_000);

  it('serves on 0.0.0.0 with CAMTRACK_TOKEN, never logs it, and exits 0 on SIGTERM', async () => {
    const child = spawnTracked(process.execPath, [bin, 'serve', '--model', assetPath(MODEL), '--host', '0.0.0.0', '--port', '0'], {
      env: { ...process.env, CAMTRACK_TOKEN: TOKEN },
      cwd: tmp(),
    });
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const READY = /"url":"http:\/\/[^"]+:(\d+)","state":"[^"]*","msg":"camtrack serve ready for requests"/;
    await waitFor('the ready line', () => READY.test(out), 60_000);
    const port = Number(READY.exec(out)![1]);
    expect((await fetch(`http://127.0.0.1:${port}/api/v1/cameras`)).status).toBe(401);
    const ok = await fetch(`http://127.0.0.1:${port}/api/v1/cameras?token=${TOKEN}`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ cameras: [] });
    expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200);
    await waitFor('the request logs', () => out.includes('token=***'), 10_000);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).not.toContain(TOKEN);
    expect(out).toMatch(/"msg":"shutting down"/);
  }, 90_000);

  it('covers the routes and WebSocket upgrades of plugins registered later with the token', async () => {
    const s = await startServe(
      { model: assetPath(MODEL), serve: { token: TOKEN } },
      {
        plugins: [
          async (app, ctx) => {
            app.get('/plugin/health', async () => ({ cameras: ctx.cameras.list().length }));
            app.get('/plugin/socket', { websocket: true }, (socket) => socket.send('hello'));
          },
        ],
      },
    );
    try {
      expect((await fetch(`${s.url}/plugin/health`)).status).toBe(401);
      expect(await (await fetch(`${s.url}/plugin/health`, { headers: s.auth })).json()).toEqual({ cameras: 0 });
      const refused = await new Promise<number>((resolve) => {
        const ws = new WebSocket(`${s.url!.replace('http', 'ws')}/plugin/socket`);
        ws.on('unexpected-response', (req, res) => {
          req.destroy();
          resolve(res.statusCode ?? 0);
        });
        ws.on('open', () => resolve(101));
        ws.on('error', () => {});
      });
      expect(refused).toBe(401);
      const hello = await new Promise<string>((resolve, reject) => {
        const ws = new WebSocket(`${s.url!.replace('http', 'ws')}/plugin/socket`, { headers: s.auth });
        ws.on('message', (d) => {
          resolve(String(d));
          ws.close();
        });
        ws.on('error', reject);
      });
      expect(hello).toBe('hello');
    } finally {
      await s.close();
    }
  }, 60_000);

  it('serves HTTPS and wss:// with --tls-cert/--tls-key (a self-signed certificate made by openssl)', async () => {
    const cert = path.join(tmp(), 'cert.pem');
    const key = path.join(tmp(), 'key.pem');
    const made = spawnSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
      { encoding: 'utf8' },
    );
    expect(made.status, made.stderr).toBe(0);
    const ca = readFileSync(cert);
    tls = await startServe({ model: assetPath(MODEL), serve: { token: TOKEN, tlsCert: cert, tlsKey: key } });
    expect(tls.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(await get(`${tls.url}/health/live`, ca)).toEqual({ status: 200, body: '{"status":"live"}' });
    expect((await get(`${tls.url}/api/v1/cameras`, ca)).status).toBe(401);
    expect(await get(`${tls.url}/api/v1/cameras`, ca, { authorization: `Bearer ${TOKEN}` })).toEqual({ status: 200, body: '{"cameras":[]}' });
    // An untrusted certificate is refused by the client; plain HTTP gets no HTTP answer.
    await expect(get(`${tls.url}/health/live`, Buffer.from(''))).rejects.toThrow();
    await expect(fetch(`${tls.url!.replace('https', 'http')}/health/live`)).rejects.toThrow();
    const ws = new WebSocket(`${tls.url!.replace('https', 'wss')}/api/v1/results?token=${TOKEN}`, { ca });
    await new Promise<void>((resolve, reject) => {
      ws.on('open', resolve);
      ws.on('error', reject);
    });
    ws.close();
  }, 60_000);
});
