import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  isPublicAddress,
  isRefusedHost,
  postWebhook,
  publicOnlyLookup,
  WebhookDestinationRefusedError,
} from './webhook-destination';

describe('webhook destinations', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.20.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    '::',
    'fd00::1',
    'fe80::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
  ])('refuses %s', (ip) => {
    expect(isPublicAddress(ip)).toBe(false);
  });

  it.each(['93.184.215.14', '8.8.8.8', '2606:4700:4700::1111'])('allows %s', (ip) => {
    expect(isPublicAddress(ip)).toBe(true);
  });

  it('refuses localhost names and bracketed IPv6 literals as hosts', () => {
    expect(isRefusedHost('localhost')).toBe(true);
    expect(isRefusedHost('api.localhost')).toBe(true);
    expect(isRefusedHost('[::1]')).toBe(true);
    expect(isRefusedHost('hooks.example.com')).toBe(false);
    expect(isRefusedHost('8.8.8.8')).toBe(false);
  });

  it('fails the connect-time lookup of a name that resolves to loopback', async () => {
    const outcome = await new Promise<unknown>((resolve) =>
      publicOnlyLookup('localhost', { all: true }, (err, address) => resolve(err ?? address)),
    );
    expect(outcome).toBeInstanceOf(WebhookDestinationRefusedError);
  });

  describe('postWebhook against a loopback receiver', () => {
    let server: Server;
    let url: string;
    const seen: { headers: Record<string, unknown>; body: string }[] = [];

    beforeAll(async () => {
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString('utf8')));
        req.on('end', () => {
          seen.push({ headers: req.headers, body });
          res.statusCode = req.url === '/redirect' ? 302 : 204;
          if (req.url === '/redirect') res.setHeader('location', '/elsewhere');
          res.end('ignored');
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });

    afterAll(async () => {
      await new Promise<void>((r) => server.close(() => r()));
    });

    it('posts the body with its headers when private networks are allowed, and does not follow redirects', async () => {
      const opts = { timeoutMs: 2_000, allowPrivate: true };
      expect(await postWebhook(`${url}/hook`, '{"a":1}', { 'x-test': 'yes' }, opts)).toBe(204);
      expect(seen[0]).toMatchObject({ body: '{"a":1}', headers: { 'x-test': 'yes' } });
      expect(await postWebhook(`${url}/redirect`, '{}', {}, opts)).toBe(302);
      expect(seen).toHaveLength(2);
    });

    it('refuses the loopback address by default, sending nothing', async () => {
      const before = seen.length;
      await expect(
        postWebhook(`${url}/hook`, '{}', {}, { timeoutMs: 2_000, allowPrivate: false }),
      ).rejects.toBeInstanceOf(WebhookDestinationRefusedError);
      await expect(
        postWebhook(
          url.replace('127.0.0.1', 'localhost'),
          '{}',
          {},
          {
            timeoutMs: 2_000,
            allowPrivate: false,
          },
        ),
      ).rejects.toBeInstanceOf(WebhookDestinationRefusedError);
      expect(seen.length).toBe(before);
    });
  });
});
