/**
 * Health probes (public: no token). GET /health/live: 200 while the process serves HTTP. GET /health/ready: 200 when
 * the readiness rule (src/server/readiness.ts) holds, else 503 with the reasons; both bodies carry each model's state
 * and Redis's (null without --redis).
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';

import type { ServerContext } from '../context.js';

const ModelStateSchema = Type.Object({
  state: Type.Union(['checking', 'available', 'loading', 'loaded', 'failed'].map((s) => Type.Literal(s))),
  error: Type.Union([Type.Null(), Type.Object({ code: Type.String(), message: Type.String() })]),
});

export const ReadySchema = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]),
  reasons: Type.Array(Type.String(), { description: 'Why not ready, one line per failed check; [] when ready.' }),
  models: Type.Record(Type.String(), ModelStateSchema),
  redis: Type.Union([Type.Null(), Type.Object({ ok: Type.Boolean(), error: Type.Union([Type.String(), Type.Null()]) })]),
});

const health: FastifyPluginAsync<ServerContext> = async (app, ctx) => {
  app.get('/health/live', { config: { public: true }, schema: { response: { 200: Type.Object({ status: Type.Literal('live') }) } } }, async () => ({
    status: 'live',
  }));
  app.get('/health/ready', { config: { public: true }, schema: { response: { 200: ReadySchema, 503: ReadySchema } } }, async (_req, reply) => {
    const r = await ctx.readiness();
    return reply.code(r.ready ? 200 : 503).send({ status: r.ready ? 'ready' : 'not_ready', reasons: r.reasons, models: r.models, redis: r.redis });
  });
};

export default health;
