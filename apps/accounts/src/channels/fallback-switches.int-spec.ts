import { createHash } from 'node:crypto';
import {
  type ApiKeyDetailResponseDto,
  type CreatedApiKeyResponseDto,
  type KeyRecordProjection,
  projectionKeys,
  type TenantDetailResponseDto,
} from '@tollgate/contracts';
import {
  type AccountsTestApp,
  type SignedUp,
  startAccountsTestApp,
} from '../testing/accounts-test-app';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** The check plan's `fallback: disabled`: either switch turns fallback off for the key's requests. */
describe('fallback switches on tenant and key (int)', () => {
  let sut: AccountsTestApp;
  let owner: SignedUp;

  beforeAll(async () => {
    sut = await startAccountsTestApp('fallback');
    owner = await sut.signup();
  });

  afterAll(async () => {
    await sut?.close();
  });

  const effective = async (secret: string): Promise<boolean> => {
    const raw = await sut.redis.get(
      projectionKeys.keyRecord(sut.redisPrefix.prefix, sha256(secret)),
    );
    return (JSON.parse(raw!) as KeyRecordProjection).allowFallback;
  };

  it('takes {allowFallback} alone on PATCH tenant and PATCH key; the key record is the AND of both', async () => {
    const token = owner.accessToken;
    const tenant = (
      await sut.api<TenantDetailResponseDto>(
        'POST',
        `/api/v1/orgs/${owner.organisation.id}/tenants`,
        {
          token,
          body: { name: 'check plan', group: 'internal-tools' },
        },
      )
    ).body;
    const key = (
      await sut.api<CreatedApiKeyResponseDto>('POST', `/api/v1/tenants/${tenant.id}/keys`, {
        token,
        body: { name: 'k' },
      })
    ).body;
    const patchTenant = (allowFallback: boolean) =>
      sut.api<TenantDetailResponseDto>('PATCH', `/api/v1/tenants/${tenant.id}`, {
        token,
        body: { allowFallback },
      });
    const patchKey = (allowFallback: boolean) =>
      sut.api<ApiKeyDetailResponseDto>('PATCH', `/api/v1/keys/${key.id}`, {
        token,
        body: { allowFallback },
      });
    expect(await effective(key.key)).toBe(true);

    const tenantOff = await patchTenant(false);
    expect(tenantOff.status).toBe(200);
    expect(tenantOff.body.allowFallback).toBe(false);
    expect(await effective(key.key)).toBe(false);

    const keyOn = await patchKey(true);
    expect(keyOn.status).toBe(200);
    expect(keyOn.body.allowFallback).toBe(true);
    expect(await effective(key.key)).toBe(false);

    expect((await patchTenant(true)).status).toBe(200);
    expect(await effective(key.key)).toBe(true);

    const keyOff = await patchKey(false);
    expect(keyOff.body.allowFallback).toBe(false);
    expect(await effective(key.key)).toBe(false);

    expect((await patchKey(true)).status).toBe(200);
    expect(await effective(key.key)).toBe(true);
  });
});
