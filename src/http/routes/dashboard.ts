import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { HttpCode } from '../../errors.js';
import { errorResponses, HttpError } from '../httpError.js';

/** The dashboard's files ship in the package (dashboard/ and the uPlot dependency): no CDN, works offline. */
const DIR = resolve(import.meta.dirname, '../../../../dashboard');
const require = createRequire(import.meta.url);
const FILES: Record<string, { path: string; type: string }> = {
  'index.html': { path: join(DIR, 'index.html'), type: 'text/html; charset=utf-8' },
  'app.js': { path: join(DIR, 'app.js'), type: 'text/javascript; charset=utf-8' },
  'verify.js': { path: join(DIR, 'verify.js'), type: 'text/javascript; charset=utf-8' },
  'style.css': { path: join(DIR, 'style.css'), type: 'text/css; charset=utf-8' },
  'uplot.js': { path: require.resolve('uplot/dist/uPlot.esm.js'), type: 'text/javascript; charset=utf-8' },
  'uplot.css': { path: require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
};
// The page loads nothing from elsewhere, and talks only to this server.
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

/**
 * `/` and `/ui/<file>`: public, since they hold no data; every figure the page shows
 * comes from the API with the token the user gives it.
 */
export function registerDashboard(app: FastifyInstance): void {
  const cache = new Map<string, Buffer>();
  const send = async (name: string, reply: FastifyReply) => {
    const f = FILES[name];
    if (!f) throw new HttpError(404, HttpCode.NOT_FOUND, `no dashboard file ${name}`);
    let body = cache.get(name);
    if (!body) cache.set(name, (body = await readFile(f.path)));
    return reply.type(f.type).header('Content-Security-Policy', CSP).header('X-Content-Type-Options', 'nosniff').header('Cache-Control', 'no-cache').send(body);
  };
  const schema = { hide: true, response: { 200: { type: 'string' }, ...errorResponses } };
  app.get('/', { config: { access: 'public' }, schema }, (_req, reply) => send('index.html', reply));
  app.get(
    '/ui/:file',
    { config: { access: 'public' }, schema: { ...schema, params: { type: 'object', properties: { file: { type: 'string', maxLength: 64 } } } } },
    (req, reply) => send((req.params as { file: string }).file, reply),
  );
}
