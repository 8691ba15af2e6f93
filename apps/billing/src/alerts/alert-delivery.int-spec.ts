import {
  ALERT_EVENT_ID_HEADER,
  ALERT_SIGNATURE_HEADER,
  type AlertSettingsResponseDto,
  type BudgetThresholdWebhookBody,
  QueueName,
  UsageJobName,
  type UsageRecordedJobData,
} from '@tollgate/contracts';
import { AdmissionStore, computeWindows, NO_LIMITS } from '@tollgate/server-admission';
import { bullConnection, SecretBox } from '@tollgate/server-kit';
import { waitFor } from '@tollgate/server-testing';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import {
  type BillingTestEnv,
  createBillingTestEnv,
  http,
  orgToken,
  type RunningApp,
  startApi,
  startWorker,
  usageEvent,
} from '../testing/billing-test-env';
import { AlertEvaluator } from './alert-evaluator.service';
import { alertSecretAad, verifyAlertSignature } from './alert-secrets';

const USD = 1_000_000_000n;

interface Received {
  org: string;
  headers: IncomingHttpHeaders;
  raw: string;
  body: BudgetThresholdWebhookBody;
}

interface AlertRow {
  id: string;
  scope_kind: string;
  scope_id: string;
  window_kind: string;
  window_id: string;
  threshold_percent: number;
  spent_nano_usd: string;
  budget_nano_usd: string;
  delivery: string;
  delivery_attempts: number;
  delivered_at: Date | null;
  last_error: string | null;
}

/** A webhook receiver on loopback: answers each organisation's requests from its script, then 200. */
class Receiver {
  readonly received: Received[] = [];
  private readonly scripts = new Map<string, number[]>();
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const org = (req.url ?? '/').slice(1);
        const raw = Buffer.concat(chunks).toString('utf8');
        this.received.push({
          org,
          headers: req.headers,
          raw,
          body: JSON.parse(raw) as BudgetThresholdWebhookBody,
        });
        res.statusCode = this.scripts.get(org)?.shift() ?? 200;
        res.end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  answer(org: string, statuses: number[]): void {
    this.scripts.set(org, [...statuses]);
  }

  of(org: string): Received[] {
    return this.received.filter((r) => r.org === org);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe('budget alerts in the worker (real BullMQ, PostgreSQL, Redis, a loopback receiver)', () => {
  let env: BillingTestEnv;
  let api: RunningApp;
  const workers: RunningApp[] = [];
  let usageQueue: Queue;
  let redis: Redis;
  let store: AdmissionStore;
  let pg: Client;
  const receiver = new Receiver();

  const alertsOf = async (org: string): Promise<AlertRow[]> =>
    (
      await pg.query<AlertRow>(
        `SELECT id, scope_kind, scope_id, window_kind, window_id, threshold_percent,
                spent_nano_usd::text, budget_nano_usd::text, delivery, delivery_attempts, delivered_at,
                last_error
           FROM budget_alerts WHERE organisation_id = $1
          ORDER BY scope_kind, window_kind, threshold_percent`,
        [org],
      )
    ).rows;

  /** Configures the webhook (to the receiver, path = org id) and returns the signing secret. */
  const configureWebhook = async (org: string, thresholdsPercent?: number[]): Promise<string> => {
    const res = await http<AlertSettingsResponseDto>(
      api.url,
      'PUT',
      `/api/v1/orgs/${org}/alert-settings`,
      { token: orgToken(org), body: { webhookUrl: `${receiver.url}/${org}`, thresholdsPercent } },
    );
    expect(res.status).toBe(200);
    return res.body.signingSecret!;
  };

  /** What the proxy does for one request: admit (tiny estimate), then settle the actual cost. */
  const spend = async (
    ids: { org: string; tenant: string; key: string },
    costNano: bigint,
    timeZone = 'UTC',
  ): Promise<void> => {
    const admitted = await store.admit({
      reservationId: `r-${randomUUID()}`,
      orgId: ids.org,
      tenantId: ids.tenant,
      keyId: ids.key,
      timeZone,
      estimatedTokens: 1,
      estimatedCostNano: 1n,
    });
    if (!admitted.admitted) throw new Error(`not admitted: ${admitted.reason}`);
    expect(await store.settle(admitted.reservation, { costNano, tokens: 1 })).toBe('settled');
  };

  /** Enqueues usage events like the proxy and waits until the workers completed all of them. */
  const book = async (events: UsageRecordedJobData[]): Promise<void> => {
    const jobs = await Promise.all(
      events.map((e) =>
        usageQueue.add(UsageJobName.Recorded, e, { jobId: e.requestId, attempts: 3 }),
      ),
    );
    await waitFor(
      async () => {
        const states = await Promise.all(jobs.map((j) => j.getState()));
        if (states.includes('failed')) throw new Error(`a usage job failed: ${states.join()}`);
        return states.every((s) => s === 'completed');
      },
      { timeoutMs: 20_000, what: 'usage jobs completed' },
    );
  };

  const eventsFor = (ids: { org: string; tenant: string; key: string }, n: number) =>
    Array.from({ length: n }, () =>
      usageEvent({ organisationId: ids.org, tenantId: ids.tenant, keyId: ids.key }),
    );

  beforeAll(async () => {
    await receiver.start();
    env = await createBillingTestEnv('alerts_worker', {
      TOLLGATE_ENCRYPTION_KEY: 'd4'.repeat(32),
      ALERT_WEBHOOK_ATTEMPTS: '3',
      ALERT_WEBHOOK_BACKOFF_MS: '50',
      ALERT_WEBHOOK_TIMEOUT_MS: '3000',
      // the receiver is on loopback, which production refuses by default
      ALERT_WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    });
    pg = new Client({
      connectionString: env.schema.url,
      options: `-c search_path=${env.schema.schema}`,
    });
    await pg.connect();
    redis = new Redis(env.config.REDIS_URL);
    store = new AdmissionStore(redis, { prefix: env.config.TOLLGATE_REDIS_PREFIX });
    api = await startApi(env.config);
    // two worker processes' worth of consumers: alerts must still be raised once
    workers.push(await startWorker(env.config), await startWorker(env.config));
    usageQueue = new Queue(QueueName.Usage, {
      connection: bullConnection(env.redis.url),
      prefix: env.redis.queuePrefix,
    });
  });

  afterAll(async () => {
    await usageQueue?.close();
    for (const w of workers) await w.app.close();
    await api?.app.close();
    await redis?.quit();
    await pg?.end();
    await env?.teardown();
    await receiver.stop();
  });

  it('raises each threshold once per window under concurrent usage events, and signs each delivery', async () => {
    const ids = { org: 'org-once', tenant: 'tenant-once', key: 'key-once' };
    const secret = await configureWebhook(ids.org);
    await store.writeLimits(
      { kind: 'key', orgId: ids.org, keyId: ids.key },
      {
        ...NO_LIMITS,
        dailyBudgetNano: 1n * USD,
      },
    );
    await spend(ids, 850_000_000n);

    await book(eventsFor(ids, 40));

    const dayId = computeWindows('UTC', Date.now()).dayId;
    let rows = await alertsOf(ids.org);
    expect(
      rows.map((r) => [r.scope_kind, r.scope_id, r.window_kind, r.window_id, r.threshold_percent]),
    ).toEqual([
      ['key', ids.key, 'day', dayId, 50],
      ['key', ids.key, 'day', dayId, 80],
    ]);
    expect(
      rows.every((r) => r.spent_nano_usd === '850000000' && r.budget_nano_usd === '1000000000'),
    ).toBe(true);

    await waitFor(async () => (await alertsOf(ids.org)).every((r) => r.delivery === 'delivered'), {
      timeoutMs: 10_000,
      what: 'both alerts delivered',
    });
    const got = receiver.of(ids.org);
    expect(got).toHaveLength(2);
    for (const r of got) {
      expect(verifyAlertSignature(secret, r.raw, String(r.headers[ALERT_SIGNATURE_HEADER]))).toBe(
        true,
      );
      expect(
        verifyAlertSignature('whsec_wrong', r.raw, String(r.headers[ALERT_SIGNATURE_HEADER])),
      ).toBe(false);
      expect(r.headers[ALERT_EVENT_ID_HEADER]).toBe(r.body.id);
      expect(r.headers['content-type']).toBe('application/json');
    }
    const fifty = got.find((r) => r.body.thresholdPercent === 50)!;
    expect(fifty.body).toEqual({
      id: rows.find((r) => r.threshold_percent === 50)!.id,
      type: 'budget.threshold',
      organisationId: ids.org,
      scope: 'key',
      scopeId: ids.key,
      model: null,
      window: 'day',
      windowId: dayId,
      thresholdPercent: 50,
      budgetUsd: '1.00',
      spentUsd: '0.85',
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown,
    });

    // over the budget: only the 100 % alert is new
    await spend(ids, 200_000_000n);
    await book(eventsFor(ids, 10));
    rows = await alertsOf(ids.org);
    expect(rows.map((r) => r.threshold_percent)).toEqual([50, 80, 100]);
    await waitFor(() => receiver.of(ids.org).length === 3, { what: 'the 100 % alert delivered' });
    const hundred = receiver.of(ids.org)[2]!;
    expect(hundred.body).toMatchObject({ thresholdPercent: 100, spentUsd: '1.05' });
    expect(rows.every((r) => r.delivery_attempts === 1 && r.delivered_at !== null)).toBe(true);
  });

  it('raises alerts on a budget set on one model of a key, for that model only, naming it', async () => {
    const ids = { org: 'org-model', tenant: 'tenant-model', key: 'key-model' };
    const secret = await configureWebhook(ids.org);
    const MODEL = 'vendor/model-a';
    const keyModel = { kind: 'key-model', orgId: ids.org, keyId: ids.key, model: MODEL } as const;
    await store.writeLimits(keyModel, { ...NO_LIMITS, monthlyBudgetNano: 1n * USD });
    // 0.60 USD on the model (its scope takes part in the admission of requests that name it)
    const admitted = await store.admit({
      reservationId: `r-${randomUUID()}`,
      orgId: ids.org,
      tenantId: ids.tenant,
      keyId: ids.key,
      model: MODEL,
      timeZone: 'UTC',
      estimatedTokens: 1,
      estimatedCostNano: 1n,
    });
    if (!admitted.admitted) throw new Error(`not admitted: ${admitted.reason}`);
    await store.settle(admitted.reservation, { costNano: 600_000_000n, tokens: 1 });

    // usage of another model by the same key raises nothing
    await book([
      usageEvent({ organisationId: ids.org, tenantId: ids.tenant, keyId: ids.key, model: 'other' }),
    ]);
    expect(await alertsOf(ids.org)).toEqual([]);

    await book([
      usageEvent({ organisationId: ids.org, tenantId: ids.tenant, keyId: ids.key, model: MODEL }),
    ]);
    const monthId = computeWindows('UTC', Date.now()).monthId;
    const rows = await alertsOf(ids.org);
    expect(rows.map((r) => [r.scope_kind, r.scope_id, r.window_kind, r.threshold_percent])).toEqual(
      [['key-model', `${ids.key}/${MODEL}`, 'month', 50]],
    );
    await waitFor(() => receiver.of(ids.org).length === 1, { what: 'the model alert delivered' });
    const got = receiver.of(ids.org)[0]!;
    expect(verifyAlertSignature(secret, got.raw, String(got.headers[ALERT_SIGNATURE_HEADER]))).toBe(
      true,
    );
    expect(got.body).toMatchObject({
      scope: 'key-model',
      scopeId: ids.key,
      model: MODEL,
      window: 'month',
      windowId: monthId,
      thresholdPercent: 50,
      budgetUsd: '1.00',
      spentUsd: '0.60',
    });
  });

  it('creates each alert once when many evaluations race across two workers', async () => {
    const ids = { org: 'org-race', tenant: 'tenant-race', key: 'key-race' };
    await store.writeLimits(
      { kind: 'tenant', orgId: ids.org, tenantId: ids.tenant },
      {
        ...NO_LIMITS,
        monthlyBudgetNano: 2n * USD,
        totalBudgetNano: 4n * USD,
      },
    );
    await store.writeLimits(
      { kind: 'org', orgId: ids.org },
      { ...NO_LIMITS, dailyBudgetNano: 3n * USD },
    );
    await spend(ids, 2n * USD); // tenant: month 100 %, total 50 %; org: day 66 %
    const usage = {
      organisationId: ids.org,
      tenantId: ids.tenant,
      keyId: ids.key,
      occurredAt: new Date().toISOString(),
    };
    const evaluators = workers.map((w) => w.app.get(AlertEvaluator));

    const created = await Promise.all(
      Array.from({ length: 30 }, (_, i) => evaluators[i % evaluators.length]!.onUsageBooked(usage)),
    );

    const rows = await alertsOf(ids.org);
    const expected = [
      ['org', 'day', 50],
      ['tenant', 'month', 50],
      ['tenant', 'month', 80],
      ['tenant', 'month', 100],
      ['tenant', 'total', 50],
    ];
    expect(rows.map((r) => [r.scope_kind, r.window_kind, r.threshold_percent])).toEqual(expected);
    expect(created.reduce((a, b) => a + b, 0)).toBe(expected.length);
    // no webhook configured: records for the portal, nothing sent
    expect(rows.every((r) => r.delivery === 'no_webhook')).toBe(true);
    expect(receiver.of(ids.org)).toHaveLength(0);
  });

  it('retries after a 500 from the receiver with back-off, then records the delivery', async () => {
    const ids = { org: 'org-retry', tenant: 'tenant-retry', key: 'key-retry' };
    const secret = await configureWebhook(ids.org, [50]);
    receiver.answer(ids.org, [500]);
    await store.writeLimits(
      { kind: 'org', orgId: ids.org },
      { ...NO_LIMITS, totalBudgetNano: 1n * USD },
    );
    await spend(ids, 600_000_000n);

    await book(eventsFor(ids, 1));

    const [row] = await waitFor(
      async () => {
        const rows = await alertsOf(ids.org);
        return rows.length === 1 && rows[0]!.delivery === 'delivered' ? rows : undefined;
      },
      { timeoutMs: 10_000, what: 'the alert delivered on the second attempt' },
    );
    expect(row).toMatchObject({
      window_kind: 'total',
      window_id: 'total',
      delivery_attempts: 2,
      last_error: null,
    });
    const got = receiver.of(ids.org);
    expect(got).toHaveLength(2);
    expect(got.map((r) => r.headers[ALERT_EVENT_ID_HEADER])).toEqual([row!.id, row!.id]);
    for (const r of got)
      expect(verifyAlertSignature(secret, r.raw, String(r.headers[ALERT_SIGNATURE_HEADER]))).toBe(
        true,
      );
  });

  it('gives up after the configured attempts and records the failure on the alert', async () => {
    const ids = { org: 'org-down', tenant: 'tenant-down', key: 'key-down' };
    await configureWebhook(ids.org, [100]);
    receiver.answer(ids.org, [503, 503, 503, 503, 503]);
    await store.writeLimits(
      { kind: 'key', orgId: ids.org, keyId: ids.key },
      {
        ...NO_LIMITS,
        totalBudgetNano: 1n * USD,
      },
    );
    await spend(ids, 1n * USD);

    await book(eventsFor(ids, 1));

    const [row] = await waitFor(
      async () => {
        const rows = await alertsOf(ids.org);
        return rows[0]?.delivery === 'failed' ? rows : undefined;
      },
      { timeoutMs: 10_000, what: 'the alert marked failed' },
    );
    expect(row).toMatchObject({ delivery_attempts: 3, last_error: 'HTTP 503', delivered_at: null });
    expect(receiver.of(ids.org)).toHaveLength(3);
    // a later usage event does not start it over
    await book(eventsFor(ids, 2));
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.of(ids.org)).toHaveLength(3);
  });

  it('raises nothing for scopes without budgets, or below the first threshold', async () => {
    const none = { org: 'org-nobudget', tenant: 'tenant-n', key: 'key-n' };
    await configureWebhook(none.org);
    await spend(none, 50n * USD);
    const low = { org: 'org-low', tenant: 'tenant-l', key: 'key-l' };
    await configureWebhook(low.org);
    await store.writeLimits(
      { kind: 'org', orgId: low.org },
      { ...NO_LIMITS, monthlyBudgetNano: 10n * USD, rpm: 5 },
    );
    await spend(low, 4_999_999_999n);

    await book([...eventsFor(none, 5), ...eventsFor(low, 5)]);

    expect(await alertsOf(none.org)).toEqual([]);
    expect(await alertsOf(low.org)).toEqual([]);
    expect(receiver.of(none.org)).toHaveLength(0);
    expect(receiver.of(low.org)).toHaveLength(0);
    // the boundary itself counts: exactly 50 % raises the 50 % alert
    await spend(low, 1n);
    await book(eventsFor(low, 1));
    expect((await alertsOf(low.org)).map((r) => r.threshold_percent)).toEqual([50]);
  });

  it('names day and month windows in the organisation’s time zone', async () => {
    const ids = { org: 'org-tz', tenant: 'tenant-tz', key: 'key-tz' };
    const timeZone = 'Pacific/Kiritimati'; // UTC+14: its day differs from UTC's for 14 hours of each day
    await store.writeTimeZone(ids.org, timeZone);
    await store.writeLimits(
      { kind: 'key', orgId: ids.org, keyId: ids.key },
      {
        ...NO_LIMITS,
        dailyBudgetNano: 1n * USD,
        monthlyBudgetNano: 1n * USD,
      },
    );
    await spend(ids, 1n * USD, timeZone);
    const occurredAt = new Date().toISOString();

    await book([{ ...eventsFor(ids, 1)[0]!, occurredAt }]);

    const w = computeWindows(timeZone, Date.parse(occurredAt));
    const rows = await alertsOf(ids.org);
    expect(new Set(rows.map((r) => `${r.window_kind}:${r.window_id}`))).toEqual(
      new Set([`day:${w.dayId}`, `month:${w.monthId}`]),
    );
    expect(rows).toHaveLength(6);
  });
});

describe('budget alert delivery with the default destination rules', () => {
  const key = 'e5'.repeat(32);
  let env: BillingTestEnv;
  let worker: RunningApp;
  let redis: Redis;
  let pg: Client;
  const receiver = new Receiver();

  beforeAll(async () => {
    await receiver.start();
    env = await createBillingTestEnv('alerts_ssrf', {
      TOLLGATE_ENCRYPTION_KEY: key,
      ALERT_WEBHOOK_ATTEMPTS: '3',
      ALERT_WEBHOOK_BACKOFF_MS: '50',
    });
    pg = new Client({
      connectionString: env.schema.url,
      options: `-c search_path=${env.schema.schema}`,
    });
    await pg.connect();
    redis = new Redis(env.config.REDIS_URL);
    worker = await startWorker(env.config);
  });

  afterAll(async () => {
    await worker?.app.close();
    await redis?.quit();
    await pg?.end();
    await env?.teardown();
    await receiver.stop();
  });

  it('refuses a loopback webhook in the worker too: failed at once, nothing sent', async () => {
    const org = 'org-ssrf';
    // the API would refuse this URL; write it as an older row would look
    await pg.query(
      `INSERT INTO alert_webhooks (organisation_id, url, secret, thresholds_percent, updated_at)
       VALUES ($1, $2, $3, '{50}', now())`,
      [org, `${receiver.url}/${org}`, new SecretBox(key).seal('whsec_x', alertSecretAad(org))],
    );
    const store = new AdmissionStore(redis, { prefix: env.config.TOLLGATE_REDIS_PREFIX });
    await store.writeLimits(
      { kind: 'org', orgId: org },
      { ...NO_LIMITS, totalBudgetNano: 1n * USD },
    );
    await store.replaceSpent(
      { kind: 'org', orgId: org },
      { kind: 'total' },
      { expectedNano: 0n, valueNano: 1n * USD },
    );

    const created = await worker.app.get(AlertEvaluator).onUsageBooked({
      organisationId: org,
      tenantId: 't',
      keyId: 'k',
      occurredAt: new Date().toISOString(),
    });
    expect(created).toBe(1);

    const row = await waitFor(
      async () => {
        const r = (
          await pg.query<AlertRow>(`SELECT * FROM budget_alerts WHERE organisation_id = $1`, [org])
        ).rows[0];
        return r?.delivery === 'failed' ? r : undefined;
      },
      { what: 'the alert failed' },
    );
    expect(row.delivery_attempts).toBe(1);
    expect(row.last_error).toBe('destination refused: 127.0.0.1 is not a public address');
    expect(receiver.of(org)).toHaveLength(0);
  });
});
