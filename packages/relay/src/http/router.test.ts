import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpError, type Route, createRouter, jsonBody } from './router.js';

const TOKEN = 'tok_0123456789abcdef';
const routes: Route[] = [
  {
    method: 'GET',
    path: '/healthz',
    access: 'open',
    handle: () => ({ status: 200, body: 'ok\n' }),
  },
  {
    method: 'GET',
    path: '/metrics',
    access: 'metrics',
    handle: () => ({ status: 200, body: 'm 1\n' }),
  },
  {
    method: 'GET',
    path: '/v1/things/:id',
    access: 'token',
    handle: (r) => ({ status: 200, body: { id: r.params['id'] } }),
  },
  {
    method: 'POST',
    path: '/v1/things',
    access: 'token',
    handle: async (r) => {
      const body = (await jsonBody(r)) as { name?: unknown };
      if (typeof body.name !== 'string') throw new HttpError(422, { error: 'name' });
      return { status: 202, body };
    },
  },
  {
    method: 'GET',
    path: '/assets/*',
    access: 'open',
    handle: (r) => ({ status: 200, body: r.params['*'] }),
  },
];

let server: Server | undefined;
afterEach(
  () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
);

async function serve(token: string | undefined, protectMetrics = false) {
  const errors: unknown[] = [];
  const router = createRouter({
    routes,
    token,
    protectMetrics,
    maxBodyBytes: 64,
    onError: (_path, error) => errors.push(error),
  });
  server = createServer((req, res) => void router(req, res));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, errors };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('the relay HTTP router', () => {
  it('refuses a token route without the token (401, WWW-Authenticate) or with a wrong one', async () => {
    const { url } = await serve(TOKEN);
    const none = await fetch(`${url}/v1/things/a`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await none.text()).not.toContain(TOKEN);
    expect((await fetch(`${url}/v1/things/a`, { headers: bearer(`${TOKEN}x`) })).status).toBe(401);
    expect((await fetch(`${url}/v1/things/a`, { headers: { authorization: TOKEN } })).status).toBe(
      401,
    );
    const ok = await fetch(`${url}/v1/things/a%20b`, { headers: bearer(TOKEN) });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ id: 'a b' });
  });

  it('keeps health open, and metrics open unless protectMetrics', async () => {
    const open = await serve(TOKEN);
    expect((await fetch(`${open.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${open.url}/metrics`)).status).toBe(200);
    server!.close();
    const closed = await serve(TOKEN, true);
    expect((await fetch(`${closed.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${closed.url}/metrics`, { headers: bearer(TOKEN) })).status).toBe(200);
  });

  it('turns token routes off (404) when no token is configured', async () => {
    const { url } = await serve(undefined);
    const res = await fetch(`${url}/v1/things/a`, { headers: bearer('anything-at-all-here') });
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('http.token');
  });

  it('answers JSON errors: bad JSON 400, a route refusal, 413 past the body limit, 405, 404', async () => {
    const { url, errors } = await serve(TOKEN);
    const post = (body: string) =>
      fetch(`${url}/v1/things`, { method: 'POST', headers: bearer(TOKEN), body });
    expect((await post('{nope')).status).toBe(400);
    expect((await post('{}')).status).toBe(422);
    expect((await post(JSON.stringify({ name: 'x'.repeat(100) }))).status).toBe(413);
    expect((await post('{"name":"n"}')).status).toBe(202);
    expect((await fetch(`${url}/v1/things`, { headers: bearer(TOKEN) })).status).toBe(405);
    expect((await fetch(`${url}/nowhere`)).status).toBe(404);
    expect(await (await fetch(`${url}/assets/a/b.js`)).text()).toBe('a/b.js');
    expect(errors).toEqual([]);
  });
});
