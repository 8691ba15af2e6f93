import { QueueName, UsageJobName } from '@tollgate/contracts';
import { bullConnection } from '@tollgate/server-kit';
import { waitFor } from '@tollgate/server-testing';
import { Queue } from 'bullmq';
import { Client } from 'pg';
import { UsageProcessor } from './usage.processor';
import {
  type BillingTestEnv,
  createBillingTestEnv,
  type RunningApp,
  startWorker,
  usageEvent,
} from '../testing/billing-test-env';

describe('UsageProcessor concurrency and graceful shutdown', () => {
  let env: BillingTestEnv;
  let sut: RunningApp;
  let queue: Queue;
  let pg: Client;
  let blocker: Client;
  let closing: Promise<void> | undefined;

  beforeAll(async () => {
    env = await createBillingTestEnv('worker_drain', { WORKER_CONCURRENCY: '3' });
    const options = `-c search_path=${env.schema.schema}`;
    pg = new Client({ connectionString: env.schema.url, options });
    blocker = new Client({ connectionString: env.schema.url, options });
    await Promise.all([pg.connect(), blocker.connect()]);
    queue = new Queue(QueueName.Usage, {
      connection: bullConnection(env.redis.url),
      prefix: env.redis.queuePrefix,
    });
    sut = await startWorker(env.config);
  });

  afterAll(async () => {
    await blocker?.end(); // releases the lock if the test failed while holding it
    await (closing ?? sut?.app.close());
    await pg?.end();
    await queue?.close();
    await env?.teardown();
  });

  it('runs WORKER_CONCURRENCY jobs at once, and on close finishes them but takes no more', async () => {
    // hold the ledger so every job blocks inside its write
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE usage_ledger IN EXCLUSIVE MODE');
    const events = Array.from({ length: 5 }, () => usageEvent({ organisationId: 'org-drain' }));
    await queue.addBulk(
      events.map((e) => ({ name: UsageJobName.Recorded, data: e, opts: { jobId: e.requestId } })),
    );

    await waitFor(async () => (await queue.getActiveCount()) === 3, { what: '3 active jobs' });
    await new Promise((r) => setTimeout(r, 300));
    expect(await queue.getActiveCount()).toBe(3);
    expect(await queue.getWaitingCount()).toBe(2);

    let closed = false;
    closing = sut.app.close().then(() => {
      closed = true;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(closed).toBe(false);
    expect(sut.app.get(UsageProcessor).isConsuming()).toBe(false);

    await blocker.query('COMMIT');
    await closing;

    expect(await queue.getCompletedCount()).toBe(3);
    expect(await queue.getWaitingCount()).toBe(2);
    const rows = await pg.query(
      `SELECT count(*)::int AS n FROM usage_ledger WHERE organisation_id = 'org-drain'`,
    );
    expect(rows.rows[0].n).toBe(3);
  });
});
