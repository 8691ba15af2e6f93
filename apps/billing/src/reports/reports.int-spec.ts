import { type MonthlyReportResponseDto, OrgRole, type ProblemDetails } from '@tollgate/contracts';
import { PriceBookService } from '../prices/price-book.service';
import {
  type BillingTestEnv,
  createBillingTestEnv,
  createLedgerSeeder,
  http,
  type LedgerSeeder,
  orgToken,
  type RunningApp,
  startApi,
  usageEvent,
} from '../testing/billing-test-env';
import { MONTHLY_REPORT_CSV_COLUMNS } from './monthly-report.csv';

const ORG = 'org-reports';
const OTHER_ORG = 'org-reports-other';
const ADMIN = { sub: 'seed', email: '', admin: true, orgs: {}, typ: 'access' as const };

describe('GET /api/v1/orgs/{orgId}/reports/monthly', () => {
  let env: BillingTestEnv;
  let sut: RunningApp;
  let seeder: LedgerSeeder;

  const report = (query: string, headers: Record<string, string> = {}, org = ORG) =>
    http<MonthlyReportResponseDto & ProblemDetails>(
      sut.url,
      'GET',
      `/api/v1/orgs/${org}/reports/monthly${query}`,
      { token: orgToken(org, OrgRole.Finance), headers },
    );

  beforeAll(async () => {
    env = await createBillingTestEnv('reports');
    seeder = await createLedgerSeeder(env.config);
    sut = await startApi(env.config);
    // $3 / $15 per million tokens: 1000 in + 500 out = 0.003 + 0.0075 = $0.0105
    await sut.app
      .get(PriceBookService)
      .setPrice(
        'gpt-test',
        { inputUsdPerMTok: '3', outputUsdPerMTok: '15' },
        ADMIN,
        new Date('2020-01-01T00:00:00Z'),
      );
    const rows = [
      // March 2026: two days for one line, a second key, a second tenant, an unpriced model
      { occurredAt: '2026-03-01T00:00:00.000Z' },
      { occurredAt: '2026-03-31T23:59:59.999Z', tenantName: 'Renamed Tenant' },
      { occurredAt: '2026-03-15T12:00:00.000Z', keyId: 'key-2', keyName: '=HYPERLINK("x")' },
      { occurredAt: '2026-03-15T12:00:00.000Z', tenantId: 'tenant-2', tenantName: 'Two, "quoted"' },
      { occurredAt: '2026-03-20T08:00:00.000Z', model: 'unpriced-model' },
      // outside March (either side) and another organisation: never counted
      { occurredAt: '2026-02-28T23:59:59.999Z' },
      { occurredAt: '2026-04-01T00:00:00.000Z' },
      { occurredAt: '2026-03-10T00:00:00.000Z', organisationId: OTHER_ORG },
    ];
    for (const r of rows) await seeder.record(usageEvent({ organisationId: ORG, ...r }));
  });

  afterAll(async () => {
    await sut?.app.close();
    await seeder?.close();
    await env?.teardown();
  });

  it('sums one line per tenant, key and requested model, for the month only', async () => {
    const res = await report('?month=2026-03');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      organisationId: ORG,
      month: '2026-03',
      currency: 'USD',
      totalCostUsd: '0.042',
      lines: [
        {
          tenantId: 'tenant-1',
          tenantName: 'Renamed Tenant',
          keyId: 'key-1',
          keyName: 'Key One',
          model: 'gpt-test',
          requests: 2,
          unpricedRequests: 0,
          inputTokens: 2000,
          outputTokens: 1000,
          costUsd: '0.021',
        },
        {
          tenantId: 'tenant-1',
          tenantName: 'Tenant One',
          keyId: 'key-1',
          keyName: 'Key One',
          model: 'unpriced-model',
          requests: 1,
          unpricedRequests: 1,
          inputTokens: 1000,
          outputTokens: 500,
          costUsd: '0.00',
        },
        {
          tenantId: 'tenant-1',
          tenantName: 'Tenant One',
          keyId: 'key-2',
          keyName: '=HYPERLINK("x")',
          model: 'gpt-test',
          requests: 1,
          unpricedRequests: 0,
          inputTokens: 1000,
          outputTokens: 500,
          costUsd: '0.0105',
        },
        {
          tenantId: 'tenant-2',
          tenantName: 'Two, "quoted"',
          keyId: 'key-1',
          keyName: 'Key One',
          model: 'gpt-test',
          requests: 1,
          unpricedRequests: 0,
          inputTokens: 1000,
          outputTokens: 500,
          costUsd: '0.0105',
        },
      ],
    });
  });

  it('answers an empty report for a month without usage', async () => {
    const res = await report('?month=2025-07');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ totalCostUsd: '0.00', lines: [] });
  });

  it('serves CSV with format=csv: quoted, formula-guarded, CRLF, the same numbers', async () => {
    const res = await report('?month=2026-03&format=csv');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toContain('tollgate-spend-2026-03.csv');
    const lines = res.text.split('\r\n');
    expect(lines[0]).toBe(MONTHLY_REPORT_CSV_COLUMNS.join(','));
    expect(lines).toHaveLength(6); // header, four lines, the empty string after the last CRLF
    expect(lines[1]).toBe(
      '2026-03,tenant-1,Renamed Tenant,key-1,Key One,gpt-test,2,0,2000,1000,0.021',
    );
    expect(lines[3]).toBe(
      `2026-03,tenant-1,Tenant One,key-2,"'=HYPERLINK(""x"")",gpt-test,1,0,1000,500,0.0105`,
    );
    expect(lines[4]).toContain('"Two, ""quoted"""');
  });

  it('serves CSV for Accept: text/csv, and JSON when format=json says so', async () => {
    const csv = await report('?month=2026-03', { accept: 'text/csv' });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const json = await report('?month=2026-03&format=json', { accept: 'text/csv' });
    expect(json.headers.get('content-type')).toMatch(/json/);
    expect(json.body.lines).toHaveLength(4);
  });

  it.each([
    ['missing month', ''],
    ['not a month', '?month=2026-13'],
    ['wrong shape', '?month=2026-3'],
    ['before 1970', '?month=1969-12'],
    ['unknown format', '?month=2026-03&format=xml'],
    ['unknown parameter', '?month=2026-03&extra=1'],
  ])('refuses %s with a 400 problem', async (_what, query) => {
    const res = await report(query);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body.detail ?? res.body.title).toBeTruthy();
  });

  it("does not show one organisation's spend to another", async () => {
    const res = await http<ProblemDetails>(
      sut.url,
      'GET',
      `/api/v1/orgs/${ORG}/reports/monthly?month=2026-03`,
      { token: orgToken(OTHER_ORG, OrgRole.Owner) },
    );
    expect(res.status).toBe(404);
    const own = await report('?month=2026-03', {}, OTHER_ORG);
    expect(own.body.lines).toHaveLength(1);
    expect(own.body.totalCostUsd).toBe('0.0105');
  });
});
