/**
 * Token auth of `camtrack serve`. With a token, a global onRequest hook (added on the root instance before any
 * plugin, so it runs for every route registered later, in any plugin, and for WebSocket upgrades, which
 * @fastify/websocket routes through fastify) checks every route that is not marked public (`config: { public: true }`:
 * /health/* only). It takes the token from, in order: `Authorization: Bearer <t>`, the `token` query parameter
 * (WebSocket upgrades and SSE from browsers, which cannot send headers), the `camtrack_token` cookie. It compares
 * SHA-256 digests with crypto.timingSafeEqual (equal lengths, constant time). A missing or wrong token: 401 with
 * code ERR_CAMTRACK_UNAUTHORIZED, the same body for both (nothing says which one).
 * The token never appears in a log line: request URLs are logged with `token` redacted ({@link redactQuery}) and the
 * Authorization and Cookie headers are redacted by pino (src/server/app.ts).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { CamtrackError } from '../errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A route anyone may call (no token): /health/* only. */
    public?: boolean;
  }
}

export const TOKEN_COOKIE = 'camtrack_token';
export const TOKEN_QUERY = 'token';

/** The shortest token the service accepts. */
export const MIN_TOKEN_LENGTH = 16;

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** True when `given` equals `expected`, in time independent of where they differ. */
export function tokenMatches(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** The token a request carries: Authorization Bearer, then ?token=, then the camtrack_token cookie. */
export function requestToken(request: FastifyRequest): string | undefined {
  const auth = request.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  const query = request.query as Record<string, unknown> | undefined;
  const q = query?.[TOKEN_QUERY];
  if (typeof q === 'string' && q !== '') return q;
  const cookie = request.headers.cookie;
  if (typeof cookie === 'string') {
    for (const part of cookie.split(';')) {
      const eq = part.indexOf('=');
      if (eq !== -1 && part.slice(0, eq).trim() === TOKEN_COOKIE) {
        try {
          return decodeURIComponent(part.slice(eq + 1).trim());
        } catch {
          return undefined;
        }
      }
    }
  }
  return undefined;
}

/** Adds the auth hook to the root instance (call before registering any route plugin). No token: no hook. */
export function installAuth(app: FastifyInstance, token: string | undefined): void {
  if (token === undefined) return;
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.routeOptions.config?.public === true) return;
    const given = requestToken(request);
    if (given !== undefined && tokenMatches(given, token)) return;
    // A refused WebSocket upgrade: the socket must not stay open after the answer.
    if (request.headers.upgrade !== undefined) reply.header('connection', 'close');
    await reply
      .code(401)
      .header('www-authenticate', 'Bearer realm="camtrack"')
      .send({
        error: {
          code: 'ERR_CAMTRACK_UNAUTHORIZED',
          message: given === undefined ? 'Authentication required' : 'Authentication failed',
          hint: 'send Authorization: Bearer <token> (or ?token=<token>, or the camtrack_token cookie); the token is the one camtrack serve was started with (--token or CAMTRACK_TOKEN)',
          stage: 'auth',
          native_code: null,
        },
      });
  });
}

/** A URL (path and query) with the value of every `token`/`access_token` query parameter replaced by ***. */
export function redactQuery(url: string): string {
  return url.replace(/([?&](?:access_)?token=)[^&#]*/gi, '$1***');
}

/** True for loopback addresses and `localhost`: binding them needs no token. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h.startsWith('::ffff:127.');
  return false;
}

/** Binding a non-loopback host without a token (exit code 2 in the CLI). */
export class InsecureBindError extends CamtrackError {
  constructor(host: string) {
    super(
      `Refusing to listen on ${host} without a token: anyone who can reach it could add cameras and read their results`,
      'ERR_CAMTRACK_INVALID_ARGUMENT',
      {
        stage: 'serve',
        hint: 'set a token (--token, env CAMTRACK_TOKEN or serve.token, at least 16 characters), or listen on 127.0.0.1',
      },
    );
    this.name = 'InsecureBindError';
  }
}
