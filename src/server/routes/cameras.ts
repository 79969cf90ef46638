/**
 * Cameras at runtime (docs/serve.md, "Cameras"):
 *   POST   /api/v1/cameras       camera options (src/config/schema.ts CameraOptionsSchema) → 201 + the camera
 *   GET    /api/v1/cameras       every managed camera: state, stats (the wire's metrics message), URL redacted
 *   GET    /api/v1/cameras/{id}  one camera
 *   PATCH  /api/v1/cameras/{id}  live configuration in wire names (docs/wire.md, "Live configuration") → the camera
 *   DELETE /api/v1/cameras/{id}  → 204
 *   GET    /api/v1/cameras/{id}/analytics  cumulative line counts and zone occupancy (the wire's analytics_counts)
 *   DELETE /api/v1/cameras/{id}/analytics  zeroes the line counts → 204 (docs/analytics.md, "Where the counts go")
 * Errors: 400 with the code and the config path (ConfigError: the same paths as CameraRegistry#add(), `stream.…`;
 * a PATCH's: `config.<wire name>`), 404 ERR_CAMTRACK_NOT_FOUND, 409 ERR_CAMTRACK_CONFLICT (duplicate id), 503
 * ERR_CAMTRACK_MODEL (the camera's model cannot load).
 */
import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifySchema, FastifySchemaCompiler } from 'fastify';

import { checkAgainst, CameraOptionsSchema, type CameraOptions } from '../../config.js';
import { WireAnalyticsCountsSchema, WireErrorSchema, WireMetricsMessageSchema } from '../../wire/index.js';
import type { ServerContext } from '../context.js';

/** Validates a request part with the config schema's own checker, so errors carry ConfigError paths. */
const configValidator =
  (prefix: string): FastifySchemaCompiler<FastifySchema> =>
  ({ schema }) =>
  (data: unknown) => {
    try {
      checkAgainst(schema as TSchema, data, prefix);
      return { value: data };
    } catch (err) {
      return { error: err as Error };
    }
  };

export const CameraViewSchema = Type.Object({
  id: Type.String(),
  model: Type.String({ description: "The camera's model name ('default' for the top-level model)." }),
  source: Type.Union([Type.Literal('config'), Type.Literal('api'), Type.Literal('other'), Type.Literal('redis')], {
    description:
      "config file, added over REST (persisted), by another part of the service (a detection session, a plugin), or read from Redis (--redis with redis.input; PATCH/DELETE: 409).",
  }),
  input: Type.Union([Type.Literal('url'), Type.Literal('push')]),
  url: Type.Union([Type.String(), Type.Null()], { description: 'The URL with credentials removed; null for pushed cameras.' }),
  state: Type.String(),
  stats: Type.Union([WireMetricsMessageSchema, Type.Null()]),
});

export const ErrorBodySchema = Type.Object({
  error: Type.Object({ ...WireErrorSchema.properties, path: Type.Union([Type.String(), Type.Null()]) }),
});

/** PATCH body: a flat object of live options in wire names; streamPatchFromWire() checks the names and values. */
export const CameraPatchSchema = Type.Record(Type.String(), Type.Unknown(), {
  description: 'Live options in wire names: fps_limit, score_threshold, classes, … (docs/wire.md, "Live configuration").',
});

const IdParams = Type.Object({ id: Type.String({ minLength: 1 }) });

const cameras: FastifyPluginAsync<ServerContext> = async (app, ctx) => {
  const errors = { 400: ErrorBodySchema, 404: ErrorBodySchema, 409: ErrorBodySchema, 503: ErrorBodySchema };

  app.post<{ Body: CameraOptions }>(
    '/api/v1/cameras',
    { schema: { body: CameraOptionsSchema, response: { 201: CameraViewSchema, ...errors } }, validatorCompiler: configValidator('stream') },
    async (request, reply) => {
      const stream = await ctx.managed.add(request.body);
      request.log.info({ camera: stream.id }, 'camera added');
      return reply.code(201).header('location', `/api/v1/cameras/${encodeURIComponent(stream.id)}`).send(ctx.managed.view(stream.id));
    },
  );

  app.get('/api/v1/cameras', { schema: { response: { 200: Type.Object({ cameras: Type.Array(CameraViewSchema) }) } } }, async () => ({
    cameras: ctx.managed.list(),
  }));

  app.get<{ Params: { id: string } }>('/api/v1/cameras/:id', { schema: { params: IdParams, response: { 200: CameraViewSchema, ...errors } } }, async (request) =>
    ctx.managed.view(request.params.id),
  );

  app.patch<{ Params: { id: string }; Body: Record<string, unknown> }>(
    '/api/v1/cameras/:id',
    { schema: { params: IdParams, body: CameraPatchSchema, response: { 200: CameraViewSchema, ...errors } }, validatorCompiler: configValidator('config') },
    async (request) => {
      await ctx.managed.configure(request.params.id, request.body);
      request.log.info({ camera: request.params.id, config: Object.keys(request.body ?? {}) }, 'camera configured');
      return ctx.managed.view(request.params.id);
    },
  );

  app.delete<{ Params: { id: string } }>('/api/v1/cameras/:id', { schema: { params: IdParams, response: errors } }, async (request, reply) => {
    await ctx.managed.remove(request.params.id);
    request.log.info({ camera: request.params.id }, 'camera removed');
    return reply.code(204).send();
  });

  // Any camera of the process with an analytics section (also one a session or plugin added): 404 unknown, 409 none.
  app.get<{ Params: { id: string } }>(
    '/api/v1/cameras/:id/analytics',
    { schema: { params: IdParams, response: { 200: WireAnalyticsCountsSchema, ...errors } } },
    async (request) => ctx.analytics.counts(request.params.id),
  );

  app.delete<{ Params: { id: string } }>('/api/v1/cameras/:id/analytics', { schema: { params: IdParams, response: errors } }, async (request, reply) => {
    ctx.analytics.reset(request.params.id);
    request.log.info({ camera: request.params.id }, 'camera analytics counts reset');
    return reply.code(204).send();
  });
};

export default cameras;
