/**
 * serve.grpc with the service's TLS files (a self-signed certificate made by openssl here): a grpc-js client that
 * trusts the certificate gets results over TLS; a plaintext client gets no answer (UNAVAILABLE).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, expect, it } from 'vitest';

import { assetPath, describeWithAssets } from '../helpers/assets.js';
import { bearer, grpcClients, unary, type GrpcClients } from '../helpers/grpc.js';
import { startServe, type TestServer } from '../helpers/serve.js';
import { SESSION_MODEL } from '../helpers/session-server.js';
import { lazyTempDir } from '../helpers/temp-dir.js';

const TOKEN = 'serve-grpc-tls-token-0123456789';
const ZIDANE = 'images/zidane.jpg';
const tmp = lazyTempDir('camtrack-serve-grpc-tls-');

describeWithAssets('camtrack serve: gRPC over TLS', [SESSION_MODEL, ZIDANE], () => {
  let server: TestServer | undefined;
  const clients: GrpcClients[] = [];
  afterAll(async () => {
    for (const c of clients) c.close();
    await server?.close();
  });

  it('answers a client that trusts the certificate; a plaintext client gets UNAVAILABLE', async () => {
    const cert = path.join(tmp(), 'cert.pem');
    const key = path.join(tmp(), 'key.pem');
    const made = spawnSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
      { encoding: 'utf8' },
    );
    expect(made.status, made.stderr).toBe(0);
    server = await startServe({ model: assetPath(SESSION_MODEL), serve: { token: TOKEN, tlsCert: cert, tlsKey: key, stateFile: `${tmp()}/cameras.json`, grpc: { port: 0 } } });
    const secure = grpcClients(server.grpc!.port, grpc.credentials.createSsl(readFileSync(cert)));
    const plain = grpcClients(server.grpc!.port);
    clients.push(secure, plain);
    const { value, error } = await unary<{ frame_id: number; detections: { label: string }[] }>(
      secure.vision,
      'ProcessFrame',
      { camera_id: 'tls', frame_id: 3, image: readFileSync(assetPath(ZIDANE)) },
      bearer(TOKEN),
      { deadline: Date.now() + 60_000 },
    );
    expect(error).toBeUndefined();
    expect(value!.frame_id).toBe(3);
    expect(value!.detections.some((d) => d.label === 'person')).toBe(true);
    const refused = await unary(plain.vision, 'GetEngineMetrics', {}, bearer(TOKEN), { deadline: Date.now() + 10_000 });
    expect(refused.error?.code).toBeOneOf([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED]);
  }, 120_000);
});
