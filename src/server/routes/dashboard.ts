/**
 * The dashboard (docs/serve.md, "Dashboard"): one static page, plain HTML + JS + CSS from assets/dashboard/ (no build
 * step), read once at start and served from memory, same origin as the API it calls.
 *   GET /                      the page (public: it holds no data; everything it shows comes from the API, with the token)
 *   GET /?token=<t>            the right token: Set-Cookie camtrack_token (HttpOnly, SameSite=Strict, Secure under TLS)
 *                              and 303 to / (the token leaves the address bar and the history); a wrong one: 303 to
 *                              /#denied (the page shows its login form again). The login form submits the same way.
 *   GET /dashboard/app.js, /dashboard/style.css  (public)
 */
import { readFile } from 'node:fs/promises';

import type { FastifyPluginAsync } from 'fastify';

import { TOKEN_COOKIE, tokenMatches } from '../auth.js';
import type { ServerContext } from '../context.js';

/** assets/dashboard/ of the package (this file is dist/server/routes/dashboard.js). */
const DIR = new URL('../../../assets/dashboard/', import.meta.url);

const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

const dashboard: FastifyPluginAsync<ServerContext> = async (app, ctx) => {
  const files = new Map<string, Buffer>();
  for (const name of Object.keys(FILES)) files.set(name, await readFile(new URL(name, DIR)));
  const token = ctx.config.serve.token;
  const secure = ctx.config.serve.tlsCert !== undefined;
  const send = (name: string) => (_req: unknown, reply: import('fastify').FastifyReply) =>
    reply.header('content-type', FILES[name]!).header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').send(files.get(name));

  app.get<{ Querystring: { token?: string } }>('/', { config: { public: true } }, async (request, reply) => {
    const given = request.query.token;
    if (typeof given === 'string' && given !== '') {
      if (token !== undefined && !tokenMatches(given, token)) return reply.code(303).header('location', '/#denied').send();
      if (token !== undefined) {
        reply.header('set-cookie', `${TOKEN_COOKIE}=${encodeURIComponent(given)}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`);
      }
      return reply.code(303).header('location', '/').header('cache-control', 'no-store').send();
    }
    return send('index.html')(request, reply.header('referrer-policy', 'no-referrer'));
  });
  app.get('/dashboard/app.js', { config: { public: true } }, send('app.js'));
  app.get('/dashboard/style.css', { config: { public: true } }, send('style.css'));
};

export default dashboard;
