import { QueueName, UsageJobName, type UsageRecordedJobData } from '@tollgate/contracts';
import { computeCostNano, parseUsdToNano } from '@tollgate/pricing';
import { bullConnection } from '@tollgate/server-kit';
import { waitFor } from '@tollgate/server-testing';
import { type Job, Queue } from 'bullmq';
import { Client } from 'pg';
import {
  adminToken,
  type BillingTestEnv,
  createBillingTestEnv,
  http,
  newRequestId,
  type RunningApp,
  startApi,
  startWorker,
  usageEvent,
} from '../testing/billing-test-env';

interface LedgerRow {
  request_id: string;
  cost_nano_usd: string;
  priced: boolean;
  price_version: number | null;
  model: string;
  upstream_model: string | null;
  input_tokens: number;
}

interface RollupRow {
  requests: string;
  unpriced_requests: string;
  input_tokens: string;
  output_tokens: string;
  cost_nano_usd: string;
  tenant_name: string | null;
}

describe('UsageProcessor (worker) against real BullMQ and PostgreSQL', () => {
  let env: BillingTestEnv;
  let sut: RunningApp;
  let api: RunningApp;
  let queue: Queue;
  let pg: Client;

  const ledgerRows = async (requestId: string): Promise<LedgerRow[]> =>
    (await pg.query<LedgerRow>(`SELECT * FROM usage_ledger WHERE request_id = $1`, [requestId]))
      .rows;
  const rollup = async (organisationId: string, model: string): Promise<RollupRow[]> =>
    (
      await pg.query<RollupRow>(
        `SELECT requests::text, unpriced_requests::text, input_tokens::text, output_tokens::text,
                cost_nano_usd::text, tenant_name
         FROM usage_daily_rollup WHERE organisation_id = $1 AND model = $2`,
        [organisationId, model],
      )
    ).rows;
  const enqueue = (
    data: unknown,
    jobId?: string,
    name: string = UsageJobName.Recorded,
  ): Promise<Job> =>
    queue.add(name, data, {
      jobId: jobId ?? (data as UsageRecordedJobData).requestId,
      attempts: 3,
    });
  const settled = async (job: Job, state: 'completed' | 'failed' = 'completed'): Promise<Job> => {
    await waitFor(async () => (await job.getState()) === state, {
      timeoutMs: 15_000,
      what: `job ${job.id} ${state}`,
    });
    return (await queue.getJob(job.id!))!;
  };
  const setPrice = async (model: string, input: string, output: string): Promise<void> => {
    const res = await http(api.url, 'PUT', `/api/v1/admin/prices/${encodeURIComponent(model)}`, {
      token: adminToken(),
      body: { inputUsdPerMTok: input, outputUsdPerMTok: output },
    });
    expect(res.status).toBe(200);
  };

  beforeAll(async () => {
    env = await createBillingTestEnv('worker');
    pg = new Client({
      connectionString: env.schema.url,
      options: `-c search_path=${env.schema.schema}`,
    });
    await pg.connect();
    api = await startApi(env.config);
    sut = await startWorker(env.config);
    queue = new Queue(QueueName.Usage, {
      connection: bullConnection(env.redis.url),
      prefix: env.redis.queuePrefix,
    });
    await setPrice('gpt-test', '2.50', '10');
  });

  afterAll(async () => {
    await queue?.close();
    await sut?.app.close();
    await api?.app.close();
    await pg?.end();
    await env?.teardown();
  });

  it('prices a usage event with the price book and writes exactly one ledger row', async () => {
    const event = usageEvent({
      organisationId: 'org-priced',
      inputTokens: 1234,
      outputTokens: 567,
    });
    const job = await settled(await enqueue(event));

    const expected = computeCostNano(
      { inputTokens: 1234, outputTokens: 567 },
      { inputNanoUsdPerMTok: parseUsdToNano('2.50'), outputNanoUsdPerMTok: parseUsdToNano('10') },
    );
    // 1234 × 2.5 + 567 × 10 = 8755 USD per million → 8 755 000 nano-USD
    expect(expected).toBe(8_755_000n);
    const rows = await ledgerRows(event.requestId);
    expect(rows).toHaveLength(1);
    expect(BigInt(rows[0].cost_nano_usd)).toBe(expected);
    expect(rows[0]).toMatchObject({
      priced: true,
      price_version: 1,
      model: 'gpt-test',
      upstream_model: 'gpt-test-2025',
    });
    expect(job.returnvalue).toMatchObject({ inserted: true, priced: true, costNanoUsd: '8755000' });
    expect(await rollup('org-priced', 'gpt-test')).toEqual([
      {
        requests: '1',
        unpriced_requests: '0',
        input_tokens: '1234',
        output_tokens: '567',
        cost_nano_usd: '8755000',
        tenant_name: 'Tenant One',
      },
    ]);
  });

  it('changes nothing when the same job is replayed or the same request id is enqueued again', async () => {
    const event = usageEvent({ organisationId: 'org-replay' });
    const first = await settled(await enqueue(event));
    const rowsBefore = await ledgerRows(event.requestId);
    const rollupBefore = await rollup('org-replay', 'gpt-test');

    // the same job id run again (as after a crash between the write and the ack)
    await first.retry('completed');
    await waitFor(
      async () => {
        const j = await queue.getJob(first.id!);
        return (
          j !== undefined &&
          (await j.getState()) === 'completed' &&
          (j.finishedOn ?? 0) > (first.finishedOn ?? 0)
        );
      },
      { timeoutMs: 15_000, what: 'the replayed job to complete' },
    );
    expect((await queue.getJob(first.id!))!.returnvalue).toMatchObject({ inserted: false });

    // the same request id under another job id, with different numbers: the ledger keeps the first
    const again = await settled(
      await enqueue({ ...event, inputTokens: 99_999 }, `${event.requestId}-dup`),
    );
    expect(again.returnvalue).toMatchObject({ inserted: false });

    expect(await ledgerRows(event.requestId)).toEqual(rowsBefore);
    expect(await rollup('org-replay', 'gpt-test')).toEqual(rollupBefore);
    expect(rollupBefore[0].requests).toBe('1');
  });

  it('fails an invalid event at once, keeps the job as failed and writes nothing', async () => {
    const event = usageEvent({ organisationId: 'org-invalid' });
    const bad = { ...event, inputTokens: -5, occurredAt: 'yesterday' };
    const job = await settled(await enqueue(bad), 'failed');
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toMatch(/inputTokens/);
    expect(job.failedReason).toMatch(/occurredAt/);
    expect(await ledgerRows(event.requestId)).toEqual([]);
    expect(await rollup('org-invalid', 'gpt-test')).toEqual([]);
  });

  it.each([
    ['a wrong schema version', { schemaVersion: 2 }],
    ['a missing organisation', { organisationId: '' }],
    ['token counts beyond the column', { outputTokens: 3_000_000_000 }],
    ['a reserved cost beyond bigint', { reservedCostNanoUsd: '99999999999999999999' }],
    ['an unknown endpoint', { endpoint: 'images' }],
  ])('rejects %s without writing', async (_what, patch) => {
    const event = { ...usageEvent({ organisationId: 'org-invalid-2' }), ...patch };
    const job = await settled(await enqueue(event), 'failed');
    expect(job.attemptsMade).toBe(1);
    expect(await ledgerRows(event.requestId)).toEqual([]);
  });

  it('fails a job with an unknown name without writing', async () => {
    const event = usageEvent({ organisationId: 'org-invalid-3' });
    const job = await settled(await enqueue(event, undefined, 'usage.recorded.v0'), 'failed');
    expect(job.failedReason).toMatch(/unknown job name/);
    expect(await ledgerRows(event.requestId)).toEqual([]);
  });

  it('records a model without a price with cost 0 and priced=false, counted as unpriced', async () => {
    const event = usageEvent({ organisationId: 'org-unpriced', model: 'no-such-price' });
    const job = await settled(await enqueue(event));
    const rows = await ledgerRows(event.requestId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ priced: false, price_version: null, cost_nano_usd: '0' });
    expect(job.returnvalue).toMatchObject({ inserted: true, priced: false });
    expect(await rollup('org-unpriced', 'no-such-price')).toMatchObject([
      { requests: '1', unpriced_requests: '1', cost_nano_usd: '0' },
    ]);
  });

  it('prices by the requested model name, not the upstream one', async () => {
    const event = usageEvent({
      organisationId: 'org-mapped',
      model: 'gpt-test',
      upstreamModel: 'no-such-price',
    });
    await settled(await enqueue(event));
    expect((await ledgerRows(event.requestId))[0]).toMatchObject({
      priced: true,
      model: 'gpt-test',
    });
  });

  it('prices an event with the version in effect when it occurred', async () => {
    await setPrice('versioned', '1', '1');
    const beforeAnyPrice = usageEvent({
      organisationId: 'org-v',
      model: 'versioned',
      occurredAt: '2020-01-01T00:00:00.000Z',
    });
    const underV1 = usageEvent({
      organisationId: 'org-v',
      model: 'versioned',
      inputTokens: 1_000_000,
      outputTokens: 0,
    });
    await settled(await enqueue(beforeAnyPrice));
    await settled(await enqueue(underV1));
    await new Promise((r) => setTimeout(r, 5));
    await setPrice('versioned', '3', '1');
    const underV2 = usageEvent({
      organisationId: 'org-v',
      model: 'versioned',
      inputTokens: 1_000_000,
      outputTokens: 0,
    });
    await settled(await enqueue(underV2));

    expect((await ledgerRows(beforeAnyPrice.requestId))[0]).toMatchObject({
      priced: false,
      cost_nano_usd: '0',
    });
    expect((await ledgerRows(underV1.requestId))[0]).toMatchObject({
      price_version: 1,
      cost_nano_usd: '1000000000',
    });
    expect((await ledgerRows(underV2.requestId))[0]).toMatchObject({
      price_version: 2,
      cost_nano_usd: '3000000000',
    });
  });

  it('keeps the rollup equal to the ledger under concurrent events of one key and model', async () => {
    const events = Array.from({ length: 40 }, (_, i) =>
      usageEvent({
        organisationId: 'org-many',
        requestId: newRequestId(),
        inputTokens: 100 + i,
        outputTokens: 7 * i,
      }),
    );
    const jobs = await queue.addBulk(
      events.map((e) => ({ name: UsageJobName.Recorded, data: e, opts: { jobId: e.requestId } })),
    );
    for (const job of jobs) await settled(job);
    const sums = (
      await pg.query<{ n: string; input: string; output: string; cost: string }>(
        `SELECT count(*)::text AS n, sum(input_tokens)::text AS input, sum(output_tokens)::text AS output,
                sum(cost_nano_usd)::text AS cost FROM usage_ledger WHERE organisation_id = 'org-many'`,
      )
    ).rows[0];
    expect(sums.n).toBe('40');
    expect(await rollup('org-many', 'gpt-test')).toMatchObject([
      {
        requests: '40',
        input_tokens: sums.input,
        output_tokens: sums.output,
        cost_nano_usd: sums.cost,
      },
    ]);
  });

  it('retries an event the database could not take, and writes it once when it can', async () => {
    const event = usageEvent({ organisationId: 'org-retry' });
    await pg.query('ALTER TABLE usage_ledger RENAME TO usage_ledger_away');
    let job: Job;
    try {
      job = await queue.add(UsageJobName.Recorded, event, {
        jobId: event.requestId,
        attempts: 10,
        backoff: { type: 'fixed', delay: 200 },
      });
      await waitFor(async () => ((await queue.getJob(job.id!))?.attemptsMade ?? 0) >= 1, {
        what: 'a failed attempt',
      });
    } finally {
      await pg.query('ALTER TABLE usage_ledger_away RENAME TO usage_ledger');
    }
    const done = await settled(job);
    expect(done.attemptsMade).toBeGreaterThanOrEqual(2);
    expect(await ledgerRows(event.requestId)).toHaveLength(1);
    expect(await rollup('org-retry', 'gpt-test')).toMatchObject([{ requests: '1' }]);
  });

  it('reports itself ready while consuming', async () => {
    const live = await http(sut.url, 'GET', '/health/live');
    expect(live.status).toBe(200);
    const ready = await http<{ status: string; checks: Record<string, string> }>(
      sut.url,
      'GET',
      '/health/ready',
    );
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ postgres: 'up', redis: 'up', worker: 'up' });
  });
});
