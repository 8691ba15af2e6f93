import {
  type AlertResponseDto,
  type AlertSettingsResponseDto,
  OrgRole,
  type Page,
  type ProblemDetails,
} from '@tollgate/contracts';
import { SecretBox } from '@tollgate/server-kit';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import {
  type BillingTestEnv,
  createBillingTestEnv,
  http,
  orgToken,
  type RunningApp,
  startApi,
} from '../testing/billing-test-env';
import { alertSecretAad } from './alert-secrets';

const ENCRYPTION_KEY = 'c3'.repeat(32);

describe('alert settings and alert history API', () => {
  let env: BillingTestEnv;
  let sut: RunningApp;
  let pg: Client;
  const settingsPath = (org: string): string => `/api/v1/orgs/${org}/alert-settings`;

  const storedRow = async (
    org: string,
  ): Promise<{ url: string | null; secret: string; thresholds_percent: number[] } | undefined> =>
    (
      await pg.query<{ url: string | null; secret: string; thresholds_percent: number[] }>(
        `SELECT url, secret, thresholds_percent FROM alert_webhooks WHERE organisation_id = $1`,
        [org],
      )
    ).rows[0];

  beforeAll(async () => {
    env = await createBillingTestEnv('alert_settings', { TOLLGATE_ENCRYPTION_KEY: ENCRYPTION_KEY });
    pg = new Client({
      connectionString: env.schema.url,
      options: `-c search_path=${env.schema.schema}`,
    });
    await pg.connect();
    sut = await startApi(env.config);
  });

  afterAll(async () => {
    await sut?.app.close();
    await pg?.end();
    await env?.teardown();
  });

  describe('GET/PUT /orgs/{orgId}/alert-settings', () => {
    it('shows the defaults to finance before anything is set', async () => {
      const res = await http<AlertSettingsResponseDto>(sut.url, 'GET', settingsPath('org-fresh'), {
        token: orgToken('org-fresh', OrgRole.Finance),
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        organisationId: 'org-fresh',
        webhookUrl: null,
        thresholdsPercent: [50, 80, 100],
        configured: false,
        updatedAt: null,
      });
    });

    it('creates the signing secret on the first PUT, shows it once and stores it only sealed', async () => {
      const org = 'org-put';
      const first = await http<AlertSettingsResponseDto>(sut.url, 'PUT', settingsPath(org), {
        token: orgToken(org, OrgRole.Admin),
        body: {
          webhookUrl: 'https://hooks.example.test/tollgate',
          thresholdsPercent: [90, 25, 100],
        },
      });
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({
        organisationId: org,
        webhookUrl: 'https://hooks.example.test/tollgate',
        thresholdsPercent: [25, 90, 100],
        configured: true,
      });
      const secret = first.body.signingSecret!;
      expect(secret).toMatch(/^whsec_/);

      const row = (await storedRow(org))!;
      expect(row.secret).not.toContain(secret);
      expect(new SecretBox(ENCRYPTION_KEY).open(row.secret, alertSecretAad(org))).toBe(secret);
      // sealed for this organisation: the envelope does not open as another one's
      expect(() =>
        new SecretBox(ENCRYPTION_KEY).open(row.secret, alertSecretAad('org-x')),
      ).toThrow();

      const second = await http<AlertSettingsResponseDto>(sut.url, 'PUT', settingsPath(org), {
        token: orgToken(org, OrgRole.Owner),
        body: { webhookUrl: null },
      });
      expect(second.status).toBe(200);
      expect(second.body.signingSecret).toBeUndefined();
      expect(second.body).toMatchObject({ webhookUrl: null, thresholdsPercent: [50, 80, 100] });
      expect((await storedRow(org))!.secret).toBe(row.secret);

      const read = await http<AlertSettingsResponseDto>(sut.url, 'GET', settingsPath(org), {
        token: orgToken(org, OrgRole.Finance),
      });
      expect(read.body.signingSecret).toBeUndefined();
      expect(read.text).not.toContain(secret);
    });

    it('rotates the secret: a new one, shown in that answer only', async () => {
      const org = 'org-rotate';
      const put = await http<AlertSettingsResponseDto>(sut.url, 'PUT', settingsPath(org), {
        token: orgToken(org),
        body: { webhookUrl: 'https://hooks.example.test/rotate' },
      });
      const rotated = await http<AlertSettingsResponseDto>(
        sut.url,
        'POST',
        `${settingsPath(org)}/rotate-secret`,
        { token: orgToken(org, OrgRole.Admin) },
      );
      expect(rotated.status).toBe(200);
      expect(rotated.body.signingSecret).toMatch(/^whsec_/);
      expect(rotated.body.signingSecret).not.toBe(put.body.signingSecret);
      expect(rotated.body.webhookUrl).toBe('https://hooks.example.test/rotate');
      const row = (await storedRow(org))!;
      expect(new SecretBox(ENCRYPTION_KEY).open(row.secret, alertSecretAad(org))).toBe(
        rotated.body.signingSecret,
      );
    });

    it('lets finance read but not write, and a plain member do neither', async () => {
      const org = 'org-roles';
      await http(sut.url, 'PUT', settingsPath(org), {
        token: orgToken(org),
        body: { webhookUrl: 'https://a.example.test/' },
      });
      const before = await storedRow(org);
      const finance = orgToken(org, OrgRole.Finance);
      const put = await http<ProblemDetails>(sut.url, 'PUT', settingsPath(org), {
        token: finance,
        body: { webhookUrl: 'https://evil.example.test/' },
      });
      expect([put.status, put.body.code]).toEqual([403, 'insufficient_role']);
      const rotate = await http<ProblemDetails>(
        sut.url,
        'POST',
        `${settingsPath(org)}/rotate-secret`,
        { token: finance },
      );
      expect(rotate.status).toBe(403);
      expect((await http(sut.url, 'GET', settingsPath(org), { token: finance })).status).toBe(200);
      const member = orgToken(org, OrgRole.Member);
      expect((await http(sut.url, 'GET', settingsPath(org), { token: member })).status).toBe(403);
      expect(
        (await http(sut.url, 'GET', `/api/v1/orgs/${org}/alerts`, { token: member })).status,
      ).toBe(403);
      expect(await storedRow(org)).toEqual(before);
    });

    it('answers 404 to another organisation’s owner and changes nothing', async () => {
      const org = 'org-victim';
      await http(sut.url, 'PUT', settingsPath(org), {
        token: orgToken(org),
        body: { webhookUrl: 'https://victim.example.test/' },
      });
      const before = await storedRow(org);
      const intruder = orgToken('org-intruder', OrgRole.Owner);
      for (const [method, path, body] of [
        ['GET', settingsPath(org), undefined],
        ['PUT', settingsPath(org), { webhookUrl: 'https://evil.example.test/' }],
        ['POST', `${settingsPath(org)}/rotate-secret`, undefined],
        ['GET', `/api/v1/orgs/${org}/alerts`, undefined],
      ] as const) {
        const res = await http<ProblemDetails>(sut.url, method, path, { token: intruder, body });
        expect([method, path, res.status, res.body.code]).toEqual([
          method,
          path,
          404,
          'organisation_not_found',
        ]);
        expect(res.text).not.toContain('victim.example.test');
      }
      expect(await storedRow(org)).toEqual(before);
    });

    it.each([
      ['an ftp URL', { webhookUrl: 'ftp://hooks.example.test/x' }],
      ['a javascript: URL', { webhookUrl: 'javascript:alert(1)' }],
      ['a URL without scheme', { webhookUrl: 'hooks.example.test/x' }],
      ['no webhookUrl at all', { thresholdsPercent: [50] }],
      ['a threshold of 0', { webhookUrl: null, thresholdsPercent: [0, 50] }],
      ['a threshold above 1000', { webhookUrl: null, thresholdsPercent: [1001] }],
      ['a fractional threshold', { webhookUrl: null, thresholdsPercent: [50.5] }],
      ['a repeated threshold', { webhookUrl: null, thresholdsPercent: [50, 50] }],
      ['thresholds that are not a list', { webhookUrl: null, thresholdsPercent: 50 }],
      ['an unknown field', { webhookUrl: null, secret: 'mine' }],
    ])('refuses %s with problem+json and changes nothing', async (_what, body) => {
      const org = 'org-bad-input';
      await http(sut.url, 'PUT', settingsPath(org), {
        token: orgToken(org),
        body: { webhookUrl: 'https://good.example.test/', thresholdsPercent: [10, 20] },
      });
      const before = await storedRow(org);
      const res = await http<ProblemDetails>(sut.url, 'PUT', settingsPath(org), {
        token: orgToken(org),
        body,
      });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await storedRow(org)).toEqual(before);
    });
  });

  describe('webhook destinations', () => {
    it.each([
      'http://127.0.0.1:8080/hook',
      'http://localhost/hook',
      'http://169.254.169.254/latest/meta-data',
      'https://10.0.0.7/hook',
      'http://[::1]:8080/hook',
    ])('refuses %s: alerts may only go to public addresses by default', async (webhookUrl) => {
      const org = 'org-ssrf';
      const res = await http<ProblemDetails>(sut.url, 'PUT', settingsPath(org), {
        token: orgToken(org),
        body: { webhookUrl },
      });
      expect([res.status, res.body.code]).toEqual([400, 'alert_webhook_url_not_allowed']);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await storedRow(org)).toBeUndefined();
    });
  });

  describe('GET /orgs/{orgId}/alerts', () => {
    const org = 'org-history';
    const ids: string[] = [];

    beforeAll(async () => {
      for (let i = 0; i < 5; i++) {
        const id = randomUUID();
        ids.push(id);
        await pg.query(
          `INSERT INTO budget_alerts (id, organisation_id, scope_kind, scope_id, window_kind, window_id,
             threshold_percent, spent_nano_usd, budget_nano_usd, delivery, delivery_attempts, created_at)
           VALUES ($1, $2, 'key', 'key-1', 'day', '2026-11-25', $3, 800000000, 1000000000, 'delivered', 1, $4)`,
          [id, org, 10 + i, new Date(Date.UTC(2026, 10, 25, 10, i))],
        );
      }
      await pg.query(
        `INSERT INTO budget_alerts (id, organisation_id, scope_kind, scope_id, window_kind, window_id,
           threshold_percent, spent_nano_usd, budget_nano_usd, delivery, delivery_attempts, created_at)
         VALUES ($1, 'org-other', 'org', 'org-other', 'total', 'total', 50, 1, 2, 'pending', 0, now())`,
        [randomUUID()],
      );
    });

    it('pages the organisation’s alerts newest first, for finance', async () => {
      const token = orgToken(org, OrgRole.Finance);
      const seen: AlertResponseDto[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 5; page++) {
        const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
        const res: { status: number; body: Page<AlertResponseDto> } = await http<
          Page<AlertResponseDto>
        >(sut.url, 'GET', `/api/v1/orgs/${org}/alerts${query}`, { token });
        expect(res.status).toBe(200);
        seen.push(...res.body.items);
        cursor = res.body.nextCursor;
        if (!cursor) break;
      }
      expect(seen.map((a) => a.id)).toEqual([...ids].reverse());
      expect(seen[0]).toEqual({
        id: ids[4],
        organisationId: org,
        scope: 'key',
        scopeId: 'key-1',
        model: null,
        window: 'day',
        windowId: '2026-11-25',
        thresholdPercent: 14,
        budgetUsd: '1.00',
        spentUsd: '0.80',
        createdAt: '2026-11-25T10:04:00.000Z',
        delivery: 'delivered',
        deliveryAttempts: 1,
        deliveredAt: null,
        lastError: null,
      });
    });

    it('refuses a cursor it did not issue with problem+json', async () => {
      const forged = Buffer.from(JSON.stringify(['yesterday', 'x'])).toString('base64url');
      const res = await http<ProblemDetails>(
        sut.url,
        'GET',
        `/api/v1/orgs/${org}/alerts?cursor=${forged}`,
        { token: orgToken(org) },
      );
      expect([res.status, res.body.code]).toEqual([400, 'invalid_cursor']);
    });
  });
});

describe('alert settings without an encryption key', () => {
  let env: BillingTestEnv;
  let sut: RunningApp;

  beforeAll(async () => {
    env = await createBillingTestEnv('alert_nokey');
    sut = await startApi(env.config);
  });

  afterAll(async () => {
    await sut?.app.close();
    await env?.teardown();
  });

  it('refuses to set a webhook with 503 problem+json instead of storing a plaintext secret', async () => {
    const res = await http<ProblemDetails>(sut.url, 'PUT', '/api/v1/orgs/org-k/alert-settings', {
      token: orgToken('org-k'),
      body: { webhookUrl: 'https://hooks.example.test/' },
    });
    expect([res.status, res.body.code]).toEqual([503, 'alert_encryption_unavailable']);
    const read = await http<AlertSettingsResponseDto>(
      sut.url,
      'GET',
      '/api/v1/orgs/org-k/alert-settings',
      { token: orgToken('org-k') },
    );
    expect(read.body.configured).toBe(false);
  });
});
