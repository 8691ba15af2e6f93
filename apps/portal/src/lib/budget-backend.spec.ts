import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError } from './problem';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;
interface Seen {
  method?: string;
  url?: string;
  auth?: string;
  body: string;
}

/** The calls against one local HTTP server standing in for both accounts and billing. */
describe('budgetBackend', () => {
  let server: Server;
  let handler: Handler;
  let sut: typeof import('./budget-backend');
  let seen: Seen[] = [];

  const json =
    (status: number, payload: unknown, type = 'application/json'): Handler =>
    (req, body, res) => {
      seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
      res.writeHead(status, { 'content-type': type }).end(JSON.stringify(payload));
    };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => handler(req, body, res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // the portal's configuration is read once, on first use, from the environment
    process.env.ACCOUNTS_URL = `${base}/accounts`;
    process.env.BILLING_URL = `${base}/billing`;
    process.env.BACKEND_TIMEOUT_MS = '2000';
    sut = await import('./budget-backend');
  });

  beforeEach(() => {
    seen = [];
  });

  afterAll(async () => {
    delete process.env.ACCOUNTS_URL;
    delete process.env.BILLING_URL;
    delete process.env.BACKEND_TIMEOUT_MS;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('addresses the limits of each scope by its own path, ids encoded', () => {
    expect(sut.limitsPath('org', 'o1')).toBe('/orgs/o1/limits');
    expect(sut.limitsPath('tenant', 't/1')).toBe('/tenants/t%2F1/limits');
    expect(sut.limitsPath('key', 'k?1')).toBe('/keys/k%3F1/limits');
    expect(sut.modelLimitsPath('key', 'k1')).toBe('/keys/k1/limits/models');
    expect(sut.modelLimitsPath('tenant', 't1', 'vendor/model-a')).toBe(
      '/tenants/t1/limits/models/vendor%2Fmodel-a',
    );
  });

  it('PUTs all six limits to accounts with the bearer token', async () => {
    const limits = {
      dailyBudgetUsd: null,
      monthlyBudgetUsd: '250',
      totalBudgetUsd: null,
      rpm: 60,
      tpm: null,
      maxConcurrent: null,
    };
    handler = json(200, limits);
    await expect(sut.budgetBackend.putLimits('tok', 'key', 'k1', limits)).resolves.toEqual(limits);
    expect(seen).toEqual([
      {
        method: 'PUT',
        url: '/accounts/api/v1/keys/k1/limits',
        auth: 'Bearer tok',
        body: JSON.stringify(limits),
      },
    ]);
  });

  it('PATCHes the organisation settings', async () => {
    handler = json(200, { id: 'o1', billingTimeZone: 'Europe/Berlin', admissionFailOpen: true });
    const org = await sut.budgetBackend.updateOrganisation('tok', 'o1', {
      billingTimeZone: 'Europe/Berlin',
      admissionFailOpen: true,
    });
    expect(org.billingTimeZone).toBe('Europe/Berlin');
    expect(seen[0]).toEqual({
      method: 'PATCH',
      url: '/accounts/api/v1/orgs/o1',
      auth: 'Bearer tok',
      body: '{"billingTimeZone":"Europe/Berlin","admissionFailOpen":true}',
    });
  });

  it('sends alert settings, secret rotation, alert pages and redemption to billing', async () => {
    handler = json(200, { items: [], nextCursor: null });
    await sut.budgetBackend.putAlertSettings('tok', 'o1', {
      webhookUrl: 'https://h.example.com/',
      thresholdsPercent: [50],
    });
    await sut.budgetBackend.rotateAlertSecret('tok', 'o1');
    await sut.budgetBackend.listAlerts('tok', 'o1', { limit: 5, cursor: 'c+1' });
    await sut.budgetBackend.getBalance('tok', 'o1');
    await sut.budgetBackend.redeem('tok', 'o1', 'CODE-1234');
    expect(seen.map((s) => `${s.method} ${s.url} ${s.body}`)).toEqual([
      'PUT /billing/api/v1/orgs/o1/alert-settings {"webhookUrl":"https://h.example.com/","thresholdsPercent":[50]}',
      'POST /billing/api/v1/orgs/o1/alert-settings/rotate-secret ',
      'GET /billing/api/v1/orgs/o1/alerts?limit=5&cursor=c%2B1 ',
      'GET /billing/api/v1/orgs/o1/balance ',
      'POST /billing/api/v1/orgs/o1/redeem {"code":"CODE-1234"}',
    ]);
  });

  it('turns a refusal into an ApiError with the field messages', async () => {
    handler = json(
      400,
      {
        type: 'about:blank',
        title: 'Validation failed',
        status: 400,
        code: 'validation_failed',
        errors: ['monthlyBudgetUsd must be a non-negative decimal string'],
      },
      'application/problem+json',
    );
    const err = await sut.budgetBackend
      .putLimits('tok', 'org', 'o1', {
        dailyBudgetUsd: null,
        monthlyBudgetUsd: null,
        totalBudgetUsd: null,
        rpm: null,
        tpm: null,
        maxConcurrent: null,
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).problem).toEqual(
      expect.objectContaining({
        status: 400,
        code: 'validation_failed',
        errors: ['monthlyBudgetUsd must be a non-negative decimal string'],
      }),
    );
  });
});
