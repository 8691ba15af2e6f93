import { createHash } from 'node:crypto';
import {
  type ChannelResponseDto,
  type CreatedApiKeyResponseDto,
  type KeyRecordProjection,
  projectionKeys,
  type TenantDetailResponseDto,
} from '@tollgate/contracts';
import { waitFor } from '@tollgate/server-testing';
import {
  type AccountsTestApp,
  type SignedUp,
  startAccountsTestApp,
  uniqueEmail,
} from '../testing/accounts-test-app';
import { ProjectionsService } from './projections.service';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const ADMIN_PASSWORD = 'rebuild admin password';

describe('rebuild projections (int)', () => {
  let sut: AccountsTestApp;
  let owner: SignedUp;
  let adminToken: string;
  let keys: CreatedApiKeyResponseDto[];
  let channels: ChannelResponseDto[];
  let prefix: string;

  /** every projection under the prefix, as plain data */
  const projectionState = async () => {
    const keyNames = (await sut.redis.keys(`${prefix}key:*`)).sort();
    const records: Record<string, unknown> = {};
    for (const k of keyNames) records[k] = await sut.redis.get(k);
    const hash = await sut.redis.hgetall(projectionKeys.channels(prefix));
    const channelsById = Object.fromEntries(
      Object.entries(hash).map(([id, json]) => [id, JSON.parse(json) as unknown]),
    );
    return { records, channels: channelsById };
  };

  beforeAll(async () => {
    const adminEmail = uniqueEmail('admin');
    sut = await startAccountsTestApp('rebuild', {
      TOLLGATE_ADMIN_EMAIL: adminEmail,
      TOLLGATE_ADMIN_PASSWORD: ADMIN_PASSWORD,
    });
    prefix = sut.redisPrefix.prefix;
    adminToken = await sut.login(adminEmail, ADMIN_PASSWORD);
    owner = await sut.signup();
    const tenant = (
      await sut.api<TenantDetailResponseDto>(
        'POST',
        `/api/v1/orgs/${owner.organisation.id}/tenants`,
        {
          token: owner.accessToken,
          body: { name: 'r', group: 'internal-tools' },
        },
      )
    ).body;
    keys = [];
    for (const name of ['one', 'two', 'three']) {
      keys.push(
        (
          await sut.api<CreatedApiKeyResponseDto>('POST', `/api/v1/tenants/${tenant.id}/keys`, {
            token: owner.accessToken,
            body: { name },
          })
        ).body,
      );
    }
    await sut.api('DELETE', `/api/v1/keys/${keys[2]!.id}`, { token: owner.accessToken });
    channels = [];
    for (const name of ['c1', 'c2']) {
      channels.push(
        (
          await sut.api<ChannelResponseDto>('POST', '/api/v1/admin/channels', {
            token: adminToken,
            body: {
              name,
              type: 'openai',
              baseUrl: 'http://127.0.0.1:18000/v1',
              apiKey: `sk-${name}`,
              models: ['m'],
            },
          })
        ).body,
      );
    }
  });

  afterAll(async () => {
    await sut?.close();
  });

  it('restores deleted, corrupted and stale state to what PostgreSQL says, and announces it', async () => {
    const expected = await projectionState();
    expect(Object.keys(expected.records)).toHaveLength(3);
    expect(Object.keys(expected.channels)).toHaveLength(2);
    const [one, two, three] = keys.map((k) => projectionKeys.keyRecord(prefix, sha256(k.key)));
    // damage: a deleted record, a corrupted one, a tampered one, a record of a key that never existed,
    // a non-record under the record prefix, a lost channel and a bogus one
    await sut.redis.del(one!);
    await sut.redis.set(two!, '{not json');
    await sut.redis.set(
      three!,
      JSON.stringify({
        ...(JSON.parse(expected.records[three!] as string) as KeyRecordProjection),
        tenantGroup: 'premium',
      }),
    );
    await sut.redis.set(
      projectionKeys.keyRecord(prefix, sha256('tg-never-issued')),
      JSON.stringify({ revoked: false }),
    );
    await sut.redis.set(`${prefix}key:garbage`, 'x');
    await sut.redis.hdel(projectionKeys.channels(prefix), channels[0]!.id);
    await sut.redis.hset(projectionKeys.channels(prefix), 'bogus', '{}');
    const subscription = await sut.subscribeToChanges();

    const report = await sut.app.get(ProjectionsService).rebuildAll();

    expect(report).toMatchObject({
      keyRecords: 3,
      channels: 2,
      staleKeyRecordsRemoved: 2,
      undecryptableChannels: [],
    });
    expect(await projectionState()).toEqual(expected);
    await waitFor(() => subscription.changes.some((c) => c.kind === 'all'), {
      what: 'rebuild notification',
    });
  });

  it('rebuilds everything from nothing, revoked keys included', async () => {
    const expected = await projectionState();
    const all = await sut.redis.keys(`${prefix}*`);
    await sut.redis.del(...all);

    await sut.app.get(ProjectionsService).rebuildAll();

    const state = await projectionState();
    expect(state).toEqual(expected);
    const revoked = JSON.parse(
      state.records[projectionKeys.keyRecord(prefix, sha256(keys[2]!.key))] as string,
    ) as KeyRecordProjection;
    expect(revoked.revoked).toBe(true);
  });

  it('never brings a revoked key back, even from a writer holding an older view', async () => {
    const live = projectionKeys.keyRecord(prefix, sha256(keys[0]!.key));
    const record = JSON.parse((await sut.redis.get(live))!) as KeyRecordProjection;
    // as if the key had been revoked by a concurrent request whose projection landed first
    await sut.redis.set(live, JSON.stringify({ ...record, revoked: true }));

    await sut.app.get(ProjectionsService).keysChanged([keys[0]!.id], 'strict');

    expect((JSON.parse((await sut.redis.get(live))!) as KeyRecordProjection).revoked).toBe(true);
  });
});
