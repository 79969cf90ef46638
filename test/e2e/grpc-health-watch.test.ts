/**
 * grpc.health.v1 Watch over a real grpc-js server and client: it follows checkReadiness() and pushes a new status when
 * readiness changes (a model going from loaded to failed and back). The model's state comes from a board the test
 * sets; the rule, the service and the transport are the real ones.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, expect, it, describe } from 'vitest';

import { CamtrackError } from '../../src/errors.js';
import { healthHandlers } from '../../src/server/grpc/health.js';
import { loadServices } from '../../src/server/grpc/proto.js';
import { checkReadiness, type ModelState } from '../../src/server/readiness.js';

describe('grpc.health.v1 Watch follows checkReadiness()', () => {
  let server: grpc.Server;
  let client: grpc.Client & Record<string, (...a: unknown[]) => unknown>;
  let state: { state: ModelState; error: CamtrackError | null } = { state: 'loaded', error: null };

  beforeAll(async () => {
    const { Health } = loadServices();
    server = new grpc.Server();
    server.addService(Health.service, healthHandlers(() => checkReadiness(['m'], { state: () => state }), 50, () => false));
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    client = new Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as typeof client;
  });
  afterAll(() => {
    client?.close();
    server?.forceShutdown();
  });

  it('sends the status at once and each change after, once per change', async () => {
    const call = (client.Watch as (r: object) => grpc.ClientReadableStream<{ status: string }>).call(client, { service: '' });
    call.on('error', () => {}); // CANCELLED after call.cancel() below
    const seen: string[] = [];
    const waitFor = (n: number) =>
      new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`only ${JSON.stringify(seen)}`)), 20_000);
        const check = () => {
          if (seen.length >= n) {
            clearTimeout(t);
            call.off('data', on);
            resolve();
          }
        };
        const on = (m: { status: string }) => (seen.push(m.status), check());
        call.on('data', on);
        check();
      });
    await waitFor(1);
    expect(seen).toEqual(['SERVING']);
    state = { state: 'failed', error: new CamtrackError('model broke', 'ERR_CAMTRACK_MODEL') };
    await waitFor(2);
    expect(seen).toEqual(['SERVING', 'NOT_SERVING']);
    state = { state: 'loaded', error: null };
    await waitFor(3);
    expect(seen).toEqual(['SERVING', 'NOT_SERVING', 'SERVING']);
    call.cancel();
  });

  it('an unknown service: Watch says SERVICE_UNKNOWN', async () => {
    const call = (client.Watch as (r: object) => grpc.ClientReadableStream<{ status: string }>).call(client, { service: 'other.Service' });
    call.on('error', () => {}); // CANCELLED after call.cancel() below
    const first = await new Promise<{ status: string }>((resolve) => call.once('data', resolve));
    expect(first.status).toBe('SERVICE_UNKNOWN');
    call.cancel();
  });
});
