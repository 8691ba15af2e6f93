import { OrgRole, type ProblemDetails } from '@tollgate/contracts';
import {
  type BillingTestEnv,
  createBillingTestEnv,
  createLedgerSeeder,
  http,
  mintToken,
  orgToken,
  type RunningApp,
  startApi,
  TEST_JWT_SECRET,
  usageEvent,
} from '../testing/billing-test-env';

const ORG_A = 'org-a-access';
const ORG_B = 'org-b-access';

const orgRoutes = (org: string): string[] => [
  `/api/v1/orgs/${org}/usage`,
  `/api/v1/orgs/${org}/reports/monthly?month=2026-03`,
  `/api/v1/orgs/${org}/reports/monthly?month=2026-03&format=csv`,
];
// each row has all three cells: jest would read a missing one as a `done` callback
const adminRoutes: [string, string, unknown][] = [
  ['GET', '/api/v1/admin/prices', undefined],
  ['PUT', '/api/v1/admin/prices/some-model', { inputUsdPerMTok: '1', outputUsdPerMTok: '1' }],
  ['GET', '/api/v1/admin/prices/some-model/versions', undefined],
];

describe('who may read what (authorisation from the token claims)', () => {
  let env: BillingTestEnv;
  let sut: RunningApp;

  beforeAll(async () => {
    env = await createBillingTestEnv('access');
    const seeder = await createLedgerSeeder(env.config);
    try {
      await seeder.record(
        usageEvent({ organisationId: ORG_A, occurredAt: '2026-03-10T10:00:00.000Z' }),
      );
      await seeder.record(
        usageEvent({ organisationId: ORG_B, occurredAt: '2026-03-10T10:00:00.000Z' }),
      );
    } finally {
      await seeder.close();
    }
    sut = await startApi(env.config);
  });

  afterAll(async () => {
    await sut?.app.close();
    await env?.teardown();
  });

  describe('organisation routes', () => {
    it.each([OrgRole.Owner, OrgRole.Admin, OrgRole.Finance])(
      'lets %s read its own organisation',
      async (role) => {
        for (const route of orgRoutes(ORG_A)) {
          const res = await http(sut.url, 'GET', route, { token: orgToken(ORG_A, role) });
          expect([route, res.status]).toEqual([route, 200]);
        }
      },
    );

    it('refuses a plain member with 403', async () => {
      for (const route of orgRoutes(ORG_A)) {
        const res = await http<ProblemDetails>(sut.url, 'GET', route, {
          token: orgToken(ORG_A, OrgRole.Member),
        });
        expect([route, res.status, res.body.code]).toEqual([route, 403, 'insufficient_role']);
      }
    });

    it('answers 404 to an owner of organisation B asking for A, exactly as for an organisation that does not exist', async () => {
      const ownerOfB = orgToken(ORG_B, OrgRole.Owner);
      for (const [a, missing] of orgRoutes(ORG_A).map((r, i) => [
        r,
        orgRoutes('org-that-does-not-exist')[i],
      ])) {
        const res = await http<ProblemDetails>(sut.url, 'GET', a, { token: ownerOfB });
        expect([a, res.status, res.body.code]).toEqual([a, 404, 'organisation_not_found']);
        expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(res.text).not.toMatch(/requestId|costUsd|tenant-1/);
        const other = await http<ProblemDetails>(sut.url, 'GET', missing, { token: ownerOfB });
        expect(other.status).toBe(404);
      }
    });

    it('answers 404 before validating: a non-member learns nothing from bad input', async () => {
      const res = await http<ProblemDetails>(
        sut.url,
        'GET',
        `/api/v1/orgs/${ORG_A}/reports/monthly?month=nope`,
        {
          token: orgToken(ORG_B, OrgRole.Owner),
        },
      );
      expect(res.status).toBe(404);
    });

    it('treats an organisation id that names an object property like any other unknown id', async () => {
      const res = await http<ProblemDetails>(sut.url, 'GET', '/api/v1/orgs/constructor/usage', {
        token: orgToken(ORG_A, OrgRole.Owner),
      });
      expect(res.status).toBe(404);
    });

    it('does not make a platform admin a member of every organisation', async () => {
      const res = await http(sut.url, 'GET', `/api/v1/orgs/${ORG_A}/usage`, {
        token: mintToken({ admin: true }),
      });
      expect(res.status).toBe(404);
    });

    it('uses only the role for the organisation in the path', async () => {
      const token = mintToken({ orgs: { [ORG_A]: OrgRole.Member, [ORG_B]: OrgRole.Owner } });
      expect((await http(sut.url, 'GET', `/api/v1/orgs/${ORG_A}/usage`, { token })).status).toBe(
        403,
      );
      expect((await http(sut.url, 'GET', `/api/v1/orgs/${ORG_B}/usage`, { token })).status).toBe(
        200,
      );
    });
  });

  describe('platform admin routes', () => {
    it.each(adminRoutes)(
      'refuses %s %s to an organisation owner with 403',
      async (method, route, body) => {
        const res = await http<ProblemDetails>(sut.url, method, route, {
          token: orgToken(ORG_A, OrgRole.Owner),
          body,
        });
        expect(res.status).toBe(403);
        expect(res.body.code).toBe('platform_admin_required');
      },
    );
  });

  describe('tokens', () => {
    const claims = { orgs: { [ORG_A]: OrgRole.Owner } };
    it.each([
      ['no token', undefined],
      ['a malformed token', 'not-a-jwt'],
      [
        'a token signed with another secret',
        mintToken(claims, { secret: `${TEST_JWT_SECRET}-other` }),
      ],
      ['a token from another issuer', mintToken(claims, { issuer: 'someone-else' })],
      ['a token for another audience', mintToken(claims, { audience: 'another-api' })],
      ['an expired token', mintToken(claims, { expiresInSeconds: -10 })],
    ])('refuses %s with a 401 problem on every route', async (_what, token) => {
      const routes: [string, string, unknown?][] = [
        ...orgRoutes(ORG_A).map((r): [string, string] => ['GET', r]),
        ...adminRoutes,
      ];
      for (const [method, route, body] of routes) {
        const res = await http<ProblemDetails>(sut.url, method, route, { token, body });
        expect([route, res.status]).toEqual([route, 401]);
        expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      }
    });
  });
});
