import { createHash } from 'node:crypto';
import {
  type CreatedApiKeyResponseDto,
  type OrganisationResponseDto,
  type Page,
  type ProblemDetails,
  projectionKeys,
  type TenantDetailResponseDto,
} from '@tollgate/contracts';
import {
  type AccountsTestApp,
  type SignedUp,
  startAccountsTestApp,
} from '../testing/accounts-test-app';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const UNKNOWN = '00000000-0000-4000-8000-000000000000';

describe('cross-organisation probes (int)', () => {
  let sut: AccountsTestApp;
  let alice: SignedUp; // org A
  let bob: SignedUp; // org B, the target
  let bobTenant: TenantDetailResponseDto;
  let bobKey: CreatedApiKeyResponseDto;

  beforeAll(async () => {
    sut = await startAccountsTestApp('crossorg');
    alice = await sut.signup({ organisationName: 'Org A' });
    bob = await sut.signup({ organisationName: 'Org B' });
    bobTenant = (
      await sut.api<TenantDetailResponseDto>(
        'POST',
        `/api/v1/orgs/${bob.organisation.id}/tenants`,
        {
          token: bob.accessToken,
          body: { name: 'B tenant' },
        },
      )
    ).body;
    bobKey = (
      await sut.api<CreatedApiKeyResponseDto>('POST', `/api/v1/tenants/${bobTenant.id}/keys`, {
        token: bob.accessToken,
        body: { name: 'B key' },
      })
    ).body;
  });

  afterAll(async () => {
    await sut?.close();
  });

  const probes = (): [string, string, string, unknown?][] => [
    ['list tenants', 'GET', `/api/v1/orgs/${bob.organisation.id}/tenants`],
    ['create tenant', 'POST', `/api/v1/orgs/${bob.organisation.id}/tenants`, { name: 'intruder' }],
    ['read tenant', 'GET', `/api/v1/tenants/${bobTenant.id}`],
    ['update tenant', 'PATCH', `/api/v1/tenants/${bobTenant.id}`, { allowFallback: false }],
    ['list keys', 'GET', `/api/v1/tenants/${bobTenant.id}/keys`],
    ['create key', 'POST', `/api/v1/tenants/${bobTenant.id}/keys`, { name: 'intruder' }],
    ['update key', 'PATCH', `/api/v1/keys/${bobKey.id}`, { name: 'intruder' }],
    ['revoke key', 'DELETE', `/api/v1/keys/${bobKey.id}`],
    ['list members', 'GET', `/api/v1/orgs/${bob.organisation.id}/members`],
    ['read organisation', 'GET', `/api/v1/orgs/${bob.organisation.id}`],
    [
      'update organisation',
      'PATCH',
      `/api/v1/orgs/${bob.organisation.id}`,
      { billingTimeZone: 'Europe/Paris' },
    ],
    ['read org limits', 'GET', `/api/v1/orgs/${bob.organisation.id}/limits`],
    ['set org limits', 'PUT', `/api/v1/orgs/${bob.organisation.id}/limits`, { rpm: 1 }],
    ['read tenant limits', 'GET', `/api/v1/tenants/${bobTenant.id}/limits`],
    ['set tenant limits', 'PUT', `/api/v1/tenants/${bobTenant.id}/limits`, { rpm: 1 }],
    ['read key limits', 'GET', `/api/v1/keys/${bobKey.id}/limits`],
    ['set key limits', 'PUT', `/api/v1/keys/${bobKey.id}/limits`, { rpm: 1 }],
    ['list tenant model limits', 'GET', `/api/v1/tenants/${bobTenant.id}/limits/models`],
    ['read tenant model limits', 'GET', `/api/v1/tenants/${bobTenant.id}/limits/models/m1`],
    [
      'set tenant model limits',
      'PUT',
      `/api/v1/tenants/${bobTenant.id}/limits/models/m1`,
      { rpm: 1 },
    ],
    ['delete tenant model limits', 'DELETE', `/api/v1/tenants/${bobTenant.id}/limits/models/m1`],
    ['list key model limits', 'GET', `/api/v1/keys/${bobKey.id}/limits/models`],
    ['read key model limits', 'GET', `/api/v1/keys/${bobKey.id}/limits/models/m1`],
    ['set key model limits', 'PUT', `/api/v1/keys/${bobKey.id}/limits/models/m1`, { rpm: 1 }],
    ['delete key model limits', 'DELETE', `/api/v1/keys/${bobKey.id}/limits/models/m1`],
    [
      'add member',
      'POST',
      `/api/v1/orgs/${bob.organisation.id}/members`,
      { email: alice.user.email, role: 'owner' },
    ],
  ];

  it('refuses every route on another organisation with 404 and changes nothing', async () => {
    const before = await sut.snapshot();
    const recordBefore = await sut.redis.get(
      projectionKeys.keyRecord(sut.redisPrefix.prefix, sha256(bobKey.key)),
    );

    for (const [label, method, path, body] of probes()) {
      const res = await sut.api<ProblemDetails>(method, path, { token: alice.accessToken, body });
      expect({ label, status: res.status, type: res.headers.get('content-type') }).toEqual({
        label,
        status: 404,
        type: expect.stringMatching(/^application\/problem\+json/),
      });
      expect(res.text).not.toContain('B tenant');
      expect(res.text).not.toContain(bobKey.prefix);
    }

    expect(await sut.snapshot()).toBe(before);
    expect(
      await sut.redis.get(projectionKeys.keyRecord(sut.redisPrefix.prefix, sha256(bobKey.key))),
    ).toBe(recordBefore);
  });

  it('answers exactly as for resources that do not exist (nothing about existence leaks)', async () => {
    const pairs: [string, string, string][] = [
      ['GET', `/api/v1/tenants/${bobTenant.id}`, `/api/v1/tenants/${UNKNOWN}`],
      ['GET', `/api/v1/orgs/${bob.organisation.id}/tenants`, `/api/v1/orgs/${UNKNOWN}/tenants`],
      ['DELETE', `/api/v1/keys/${bobKey.id}`, `/api/v1/keys/${UNKNOWN}`],
      ['GET', `/api/v1/orgs/${bob.organisation.id}/members`, `/api/v1/orgs/${UNKNOWN}/members`],
    ];
    for (const [method, existing, missing] of pairs) {
      const a = await sut.api<ProblemDetails>(method, existing, { token: alice.accessToken });
      const b = await sut.api<ProblemDetails>(method, missing, { token: alice.accessToken });
      expect(a.body).toEqual(b.body);
    }
  });

  it('lists only the caller’s own organisations', async () => {
    const res = await sut.api<Page<OrganisationResponseDto>>('GET', '/api/v1/orgs', {
      token: alice.accessToken,
    });

    expect(res.body.items.map((o) => o.id)).toEqual([alice.organisation.id]);
  });

  it('does not trust organisation roles in a stale token over the database', async () => {
    // Bob's token names org B; once Bob is no longer a member, the token alone opens nothing.
    await sut.db.query(`DELETE FROM memberships WHERE user_id = $1 AND organisation_id = $2`, [
      bob.user.id,
      bob.organisation.id,
    ]);
    try {
      const res = await sut.api('GET', `/api/v1/tenants/${bobTenant.id}`, {
        token: bob.accessToken,
      });
      expect(res.status).toBe(404);
    } finally {
      await sut.db.query(
        `INSERT INTO memberships (organisation_id, user_id, role) VALUES ($1, $2, 'owner')`,
        [bob.organisation.id, bob.user.id],
      );
    }
    expect(
      (await sut.api('GET', `/api/v1/tenants/${bobTenant.id}`, { token: bob.accessToken })).status,
    ).toBe(200);
  });

  it('still lets the owner do all of it (the probes are real routes)', async () => {
    for (const [label, method, path, body] of probes()) {
      if (label === 'add member' || label === 'revoke key') continue;
      const res = await sut.api(method, path, { token: bob.accessToken, body });
      expect({ label, ok: res.status < 300 }).toEqual({ label, ok: true });
    }
  });
});
