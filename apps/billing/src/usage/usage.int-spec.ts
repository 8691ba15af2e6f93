import {
  OrgRole,
  type Page,
  type ProblemDetails,
  type UsageRecordResponseDto,
} from '@tollgate/contracts';
import { formatNanoAsUsd } from '@tollgate/pricing';
import { PriceBookService } from '../prices/price-book.service';
import {
  type BillingTestEnv,
  createBillingTestEnv,
  createLedgerSeeder,
  http,
  type LedgerSeeder,
  newRequestId,
  orgToken,
  type RunningApp,
  startApi,
  usageEvent,
} from '../testing/billing-test-env';

const ORG = 'org-usage';
const OTHER_ORG = 'org-other';

describe('GET /api/v1/orgs/{orgId}/usage', () => {
  let env: BillingTestEnv;
  let sut: RunningApp;
  let seeder: LedgerSeeder;
  const allRequestIds: string[] = [];

  const list = (query = '', token = orgToken(ORG, OrgRole.Finance), org = ORG) =>
    http<Page<UsageRecordResponseDto> & ProblemDetails>(
      sut.url,
      'GET',
      `/api/v1/orgs/${org}/usage${query}`,
      { token },
    );

  const walk = async (query: string, limit: number): Promise<UsageRecordResponseDto[]> => {
    const seen: UsageRecordResponseDto[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 200; page++) {
      const sep = query ? '&' : '?';
      const q: string = `${query}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await list(q);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(limit);
      seen.push(...res.body.items);
      cursor = res.body.nextCursor;
      if (cursor === null) return seen;
    }
    throw new Error('pagination did not end');
  };

  beforeAll(async () => {
    env = await createBillingTestEnv('usage');
    seeder = await createLedgerSeeder(env.config);
    sut = await startApi(env.config);
    // in effect long before the seeded usage (the API sets prices from now on)
    await sut.app
      .get(PriceBookService)
      .setPrice(
        'gpt-test',
        { inputUsdPerMTok: '3', outputUsdPerMTok: '15' },
        { sub: 'seed', email: '', admin: true, orgs: {}, typ: 'access' },
        new Date('2020-01-01T00:00:00Z'),
      );
    // 23 rows in 2 tenants, 2 models; several share one instant so the request id must break ties
    const base = Date.now() - 60_000;
    for (let i = 0; i < 23; i++) {
      const occurredAt = new Date(base + Math.floor(i / 4) * 1000).toISOString();
      const event = usageEvent({
        organisationId: ORG,
        requestId: newRequestId(),
        occurredAt,
        tenantId: i % 2 === 0 ? 'tenant-even' : 'tenant-odd',
        model: i % 3 === 0 ? 'unpriced-model' : 'gpt-test',
        inputTokens: 100 + i,
        outputTokens: 10 * i,
      });
      allRequestIds.push(event.requestId);
      await seeder.record(event);
    }
    await seeder.record(usageEvent({ organisationId: OTHER_ORG }));
  });

  afterAll(async () => {
    await sut?.app.close();
    await seeder?.close();
    await env?.teardown();
  });

  it('walks every row of the organisation exactly once, newest first', async () => {
    const seen = await walk('', 5);
    expect(seen.map((r) => r.requestId).sort()).toEqual([...allRequestIds].sort());
    for (let i = 1; i < seen.length; i++) {
      const [a, b] = [seen[i - 1], seen[i]];
      expect(
        a.occurredAt > b.occurredAt || (a.occurredAt === b.occurredAt && a.requestId > b.requestId),
      ).toBe(true);
    }
  });

  it('answers records with the cost as a decimal string of US dollars', async () => {
    const res = await list('?limit=200');
    const priced = res.body.items.find((r) => r.model === 'gpt-test')!;
    // 3 USD per million input tokens is 3000 nano-USD per token, 15 USD per million output 15000
    const nano = BigInt(priced.inputTokens) * 3000n + BigInt(priced.outputTokens) * 15000n;
    expect(nano).toBeGreaterThan(0n);
    expect(priced.costUsd).toMatch(/^\d+\.\d{2,9}$/);
    expect(priced.costUsd).toBe(formatNanoAsUsd(nano));
    expect(priced.priced).toBe(true);
    const unpriced = res.body.items.find((r) => r.model === 'unpriced-model')!;
    expect(unpriced).toMatchObject({ costUsd: '0.00', priced: false });
    expect(Object.keys(priced).sort()).toEqual(
      [
        'requestId',
        'occurredAt',
        'tenantId',
        'keyId',
        'model',
        'upstreamModel',
        'endpoint',
        'stream',
        'outcome',
        'httpStatus',
        'inputTokens',
        'outputTokens',
        'cachedInputTokens',
        'costUsd',
        'priced',
      ].sort(),
    );
  });

  it('filters by tenant, model and time, paginating within the filter', async () => {
    const even = await walk('?tenantId=tenant-even', 3);
    expect(even).toHaveLength(12);
    expect(even.every((r) => r.tenantId === 'tenant-even')).toBe(true);
    const unpriced = await walk('?model=unpriced-model', 2);
    expect(unpriced).toHaveLength(8);
    const all = (await list('?limit=200')).body.items;
    const from = all[10].occurredAt;
    const to = all[2].occurredAt;
    const window = await walk(`?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`, 4);
    expect(window.map((r) => r.requestId).sort()).toEqual(
      all
        .filter((r) => r.occurredAt >= from && r.occurredAt < to)
        .map((r) => r.requestId)
        .sort(),
    );
    expect((await list('?keyId=nope')).body).toEqual({ items: [], nextCursor: null });
  });

  it.each([
    ['a foreign cursor', '?cursor=abc', 'invalid_cursor'],
    [
      'a tampered cursor',
      `?cursor=${Buffer.from('["not a date","x"]').toString('base64url')}`,
      'invalid_cursor',
    ],
    ['a limit above 200', '?limit=201', 'validation_failed'],
    ['a zero limit', '?limit=0', 'validation_failed'],
    ['an unknown parameter', '?colour=blue', 'validation_failed'],
    ['a malformed date', '?from=yesterday', 'validation_failed'],
    ['an instant before 1970', '?from=1900-01-01T00:00:00Z', 'invalid_time_range'],
    [
      'an empty time range',
      '?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z',
      'invalid_time_range',
    ],
  ])('refuses %s with a 400 problem', async (_what, query, code) => {
    const res = await list(query);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body.code).toBe(code);
  });

  it('never shows another organisation its rows', async () => {
    const other = await list('?limit=200', orgToken(OTHER_ORG, OrgRole.Owner), OTHER_ORG);
    expect(other.status).toBe(200);
    expect(other.body.items).toHaveLength(1);
    expect(other.body.items.some((r) => allRequestIds.includes(r.requestId))).toBe(false);
  });
});
