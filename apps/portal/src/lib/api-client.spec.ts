import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildApiUrl, callApi, requestJson, seg } from './api-client';
import { ApiError } from './problem';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

describe('api client', () => {
  let server: Server;
  let baseUrl: string;
  let handler: Handler;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => handler(req, body, res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('sends JSON with the bearer token to /api/v1 and parses the answer', async () => {
    let seen: { method?: string; url?: string; auth?: string; type?: string; body?: string } = {};
    handler = (req, body, res) => {
      seen = {
        method: req.method,
        url: req.url,
        auth: req.headers.authorization,
        type: req.headers['content-type'],
        body,
      };
      res
        .writeHead(201, { 'content-type': 'application/json' })
        .end(JSON.stringify({ id: 't1', name: 'Acme' }));
    };
    const sut = await requestJson<{ id: string; name: string }>({
      service: 'accounts',
      baseUrl,
      path: `/orgs/${seg('o/1')}/tenants`,
      method: 'POST',
      token: 'tok',
      body: { name: 'Acme' },
      timeoutMs: 2000,
    });
    expect(sut).toEqual({ id: 't1', name: 'Acme' });
    expect(seen).toEqual({
      method: 'POST',
      url: '/api/v1/orgs/o%2F1/tenants',
      auth: 'Bearer tok',
      type: 'application/json',
      body: '{"name":"Acme"}',
    });
  });

  it('resolves a 204 to undefined', async () => {
    handler = (_req, _body, res) => res.writeHead(204).end();
    await expect(
      requestJson({
        service: 'accounts',
        baseUrl,
        path: '/keys/k1',
        method: 'DELETE',
        timeoutMs: 2000,
      }),
    ).resolves.toBeUndefined();
  });

  it('raises the problem details of an error answer', async () => {
    handler = (_req, _body, res) =>
      res.writeHead(400, { 'content-type': 'application/problem+json' }).end(
        JSON.stringify({
          type: 'x',
          title: 'Request validation failed',
          status: 400,
          code: 'validation_failed',
          errors: ['name should not be empty'],
        }),
      );
    const err = await requestJson({
      service: 'accounts',
      baseUrl,
      path: '/x',
      timeoutMs: 2000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).problem).toMatchObject({
      status: 400,
      code: 'validation_failed',
      errors: ['name should not be empty'],
    });
  });

  it('reports a 2xx answer that is not JSON as a bad backend response', async () => {
    handler = (_req, _body, res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>');
    const err = await requestJson({
      service: 'billing',
      baseUrl,
      path: '/x',
      timeoutMs: 2000,
    }).catch((e: unknown) => e);
    expect((err as ApiError).problem).toMatchObject({ status: 502, code: 'bad_backend_response' });
  });

  it('reports a service that does not answer in time', async () => {
    handler = () => undefined; // never answers
    const err = await callApi({ service: 'billing', baseUrl, path: '/slow', timeoutMs: 100 }).catch(
      (e: unknown) => e,
    );
    expect((err as ApiError).problem).toMatchObject({ status: 504, code: 'backend_timeout' });
    expect((err as ApiError).problem.title).toContain('billing');
  });

  it('reports a service that cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const err = await callApi({
      service: 'accounts',
      baseUrl: `http://127.0.0.1:${port}`,
      path: '/me',
      timeoutMs: 2000,
    }).catch((e: unknown) => e);
    expect((err as ApiError).problem).toMatchObject({ status: 503, code: 'backend_unreachable' });
  });

  it('builds query strings and skips empty values', () => {
    expect(
      buildApiUrl('http://h:1/', '/orgs/o/usage', { limit: 50, cursor: undefined, month: '' }),
    ).toBe('http://h:1/api/v1/orgs/o/usage?limit=50');
    expect(buildApiUrl('http://h:1', '/r', { month: '2026-11', format: 'csv' })).toBe(
      'http://h:1/api/v1/r?month=2026-11&format=csv',
    );
  });
});
