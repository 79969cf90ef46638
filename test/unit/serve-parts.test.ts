/**
 * Parts of `camtrack serve` that need no server: the `serve` config section (defaults, paths of bad fields, kept out of
 * the pipelines' options, in `camtrack config schema`), the precedence of flags over the environment over the file,
 * the token helpers (constant-time compare, where a request's token is read from, redaction of query strings,
 * loopback hosts), and the bounded per-reader queue of the result feed (a slow reader gets the newest messages, the
 * others counted as dropped, memory bounded).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { configJsonSchema, normaliseRegistryConfig } from '../../dist/config.js';
import { ConfigError } from '../../dist/errors.js';
import { serveConfig } from '../../dist/cli/serve.js';
import { isLoopbackHost, redactQuery, tokenMatches } from '../../dist/server/auth.js';
import { BoundedWriter, HIGH_WATER_BYTES } from '../../dist/server/result-feed.js';
import { DEFAULT_SESSION_LIMITS } from '../../dist/server/sessions/table.js';

describe('the serve config section', () => {
  it('fills its defaults and stays out of the pipelines\' options', () => {
    const c = normaliseRegistryConfig({ model: 'm.onnx' });
    expect(c.serve).toEqual({ host: '127.0.0.1', port: 8080, bodyLimitBytes: 1048576, resultQueueSize: 64, sessions: { enabled: true, ...DEFAULT_SESSION_LIMITS }, snapshot: { maxFps: 5, streamMaxFps: 10, streamFps: 5, quality: 80, timeoutMs: 5000 } });
    expect(c.pipeline).not.toHaveProperty('serve');
    expect(normaliseRegistryConfig({ model: 'm.onnx', serve: { port: 0, token: 'x'.repeat(16) } }).serve).toMatchObject({ port: 0, token: 'x'.repeat(16) });
  });

  it.each([
    [{ port: 70000 }, 'serve.port'],
    [{ token: 'short' }, 'serve.token'],
    [{ bodyLimitBytes: 10 }, 'serve.bodyLimitBytes'],
    [{ listen: 1 }, 'serve.listen'],
    [{ sessions: { maxFrameBytes: 10 } }, 'serve.sessions.maxFrameBytes'],
    [{ sessions: { unknown: 1 } }, 'serve.sessions.unknown'],
  ])('BAD CALL - %j names serve.<field>', (serve, at) => {
    let err: unknown;
    try {
      normaliseRegistryConfig({ model: 'm.onnx', serve } as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).path).toBe(at);
  });

  it('is in the printed JSON Schema', () => {
    const schema = configJsonSchema() as { properties: Record<string, { properties: Record<string, unknown> }> };
    expect(Object.keys(schema.properties.serve!.properties)).toEqual(['host', 'port', 'token', 'tlsCert', 'tlsKey', 'stateFile', 'bodyLimitBytes', 'resultQueueSize', 'sessions', 'snapshot', 'grpc']);
  });

  it('takes flags over CAMTRACK_TOKEN over the file; file paths are relative to the file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'camtrack-serve-cfg-'));
    const file = path.join(dir, 'serve.yaml');
    writeFileSync(file, 'model: m.onnx\nserve:\n  port: 9000\n  host: 127.0.0.2\n  token: file-token-0123456789\n  tlsCert: cert.pem\n  tlsKey: key.pem\n');
    let c = await serveConfig({ config: file }, {});
    expect(c.serve).toMatchObject({ port: 9000, host: '127.0.0.2', token: 'file-token-0123456789', tlsCert: path.join(dir, 'cert.pem') });
    expect(c.model).toBe(path.join(dir, 'm.onnx'));
    c = await serveConfig({ config: file }, { CAMTRACK_TOKEN: 'env-token-0123456789' });
    expect(c.serve!.token).toBe('env-token-0123456789');
    c = await serveConfig({ config: file, token: 'flag-token-0123456789', port: 0, host: '::1' }, { CAMTRACK_TOKEN: 'env-token-0123456789' });
    expect(c.serve).toMatchObject({ token: 'flag-token-0123456789', port: 0, host: '::1' });
  });
});

describe('token helpers', () => {
  it('compares tokens of any length without throwing', () => {
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('abc', 'abd')).toBe(false);
    expect(tokenMatches('', 'a-much-longer-token')).toBe(false);
  });
  it('redacts token query parameters', () => {
    expect(redactQuery('/api/v1/results?cameras=a&token=s3cret&x=1')).toBe('/api/v1/results?cameras=a&token=***&x=1');
    expect(redactQuery('/x?access_token=s3cret')).toBe('/x?access_token=***');
    expect(redactQuery('/x?tokens=1')).toBe('/x?tokens=1');
  });
  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['::1', true],
    ['[::1]', true],
    ['localhost', true],
    ['0.0.0.0', false],
    ['::', false],
    ['192.168.1.10', false],
    ['example.com', false],
  ])('isLoopbackHost(%s) is %s', (host, loopback) => expect(isLoopbackHost(host)).toBe(loopback));
});

describe('BoundedWriter (one result reader)', () => {
  it('writes at once while the socket has room', () => {
    const out: string[] = [];
    const w = new BoundedWriter(3, () => 0, (m) => out.push(m));
    for (let i = 0; i < 10; i++) w.offer(String(i));
    expect(out).toHaveLength(10);
    expect(w.dropped).toBe(0);
  });

  it('a slow reader keeps the newest messages, the others counted, and never holds more than its capacity', () => {
    const out: string[] = [];
    let buffered = HIGH_WATER_BYTES; // the peer is not reading
    const w = new BoundedWriter(4, () => buffered, (m) => out.push(m));
    for (let i = 0; i < 1000; i++) {
      w.offer(String(i));
      expect(w.queued).toBeLessThanOrEqual(4);
    }
    expect(out).toEqual([]);
    expect(w.dropped).toBe(996);
    buffered = 0; // it reads again
    w.flush();
    expect(out).toEqual(['996', '997', '998', '999']);
    expect(w.written).toBe(4);
    w.offer('next');
    expect(out.at(-1)).toBe('next');
  });
});
