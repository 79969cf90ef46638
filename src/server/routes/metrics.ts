/** GET /metrics: Prometheus text exposition of the camtrack_* metrics (src/server/prometheus.ts), read at scrape time. */
import type { FastifyPluginAsync } from 'fastify';

import type { ServerContext } from '../context.js';

const metrics: FastifyPluginAsync<ServerContext> = async (app, ctx) => {
  app.get('/metrics', async (_req, reply) => {
    const text = await ctx.metrics.metrics();
    return reply.type(ctx.metrics.contentType).serializer((s: unknown) => s as string).send(text);
  });
};

export default metrics;
