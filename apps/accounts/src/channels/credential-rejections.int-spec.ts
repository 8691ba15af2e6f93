import {
  type ChannelEventResponseDto,
  type ChannelHealthEvent,
  channelHealthKeys,
  type ChannelProjection,
  type ChannelResponseDto,
  type Page,
  type ProblemDetails,
  projectionKeys,
  type RejectedCredentialEntry,
} from '@tollgate/contracts';
import { waitFor } from '@tollgate/server-testing';
import { AuditLogEntity } from '../audit/audit-log.entity';
import {
  type AccountsTestApp,
  startAccountsTestApp,
  uniqueEmail,
} from '../testing/accounts-test-app';
import { ChannelEntity } from './channel.entity';
import { ChannelEventEntity } from './channel-event.entity';
import { credentialFingerprint } from './channel-settings';
import { CredentialRejectionsService } from './credential-rejections.service';

const ADMIN_PASSWORD = 'admin password for tests';

describe('refused channel credentials (int)', () => {
  let sut: AccountsTestApp;
  let adminToken: string;
  let prefix: string;

  beforeAll(async () => {
    const adminEmail = uniqueEmail('admin');
    sut = await startAccountsTestApp('rejections', {
      TOLLGATE_ADMIN_EMAIL: adminEmail,
      TOLLGATE_ADMIN_PASSWORD: ADMIN_PASSWORD,
    });
    adminToken = await sut.login(adminEmail, ADMIN_PASSWORD);
    prefix = sut.redisPrefix.prefix;
  });

  afterAll(async () => {
    await sut?.close();
  });

  const createChannel = async (name = 'provider'): Promise<ChannelResponseDto> => {
    const res = await sut.api<ChannelResponseDto>('POST', '/api/v1/admin/channels', {
      token: adminToken,
      body: {
        name,
        type: 'openai',
        baseUrl: 'https://api.example.test/v1',
        apiKey: 'sk-provider-credential',
        models: ['m'],
      },
    });
    expect(res.status).toBe(201);
    return res.body;
  };

  const fingerprintOf = async (id: string): Promise<string> =>
    credentialFingerprint(
      (await sut.db.getRepository(ChannelEntity).findOneByOrFail({ id })).encryptedApiKey,
    );

  /** what the proxy's ChannelHealth.rejectCredentials writes */
  const report = async (
    channelId: string,
    credential: string,
    { status = 401, publish = true } = {},
  ): Promise<void> => {
    const at = new Date().toISOString();
    const entry: RejectedCredentialEntry = { credential, status, at };
    const event: ChannelHealthEvent = {
      channelId,
      reason: 'credentials_rejected',
      status,
      at,
    };
    const tx = sut.redis
      .multi()
      .hset(channelHealthKeys.rejected(prefix), channelId, JSON.stringify(entry));
    if (publish) tx.publish(channelHealthKeys.channelEvents(prefix), JSON.stringify(event));
    await tx.exec();
  };

  const channel = async (id: string): Promise<ChannelResponseDto> =>
    (
      await sut.api<ChannelResponseDto>('GET', `/api/v1/admin/channels/${id}`, {
        token: adminToken,
      })
    ).body;

  const projected = async (id: string): Promise<ChannelProjection> =>
    JSON.parse((await sut.redis.hget(projectionKeys.channels(prefix), id))!) as ChannelProjection;

  const events = async (id: string, query = ''): Promise<Page<ChannelEventResponseDto>> => {
    const res = await sut.api<Page<ChannelEventResponseDto>>(
      'GET',
      `/api/v1/admin/channels/${id}/events${query}`,
      { token: adminToken },
    );
    expect(res.status).toBe(200);
    return res.body;
  };

  const waitForStatus = (id: string, status: 'enabled' | 'disabled') =>
    waitFor(async () => (await channel(id)).status === status, {
      what: `channel ${status}`,
    });

  /**
   * Reports are applied one at a time in arrival order: once a later report on another channel
   * shows, every earlier message has been handled.
   */
  const drain = async (): Promise<void> => {
    const sentinel = await createChannel('sentinel');
    await report(sentinel.id, await fingerprintOf(sentinel.id));
    await waitForStatus(sentinel.id, 'disabled');
  };

  it('disables the channel once per refused credential, records the event and audits it', async () => {
    const created = await createChannel();
    const subscription = await sut.subscribeToChanges();
    const fp = await fingerprintOf(created.id);

    await report(created.id, fp, { status: 403 });
    await waitForStatus(created.id, 'disabled');
    await report(created.id, fp);
    await report(created.id, fp);
    await drain();

    expect(await channel(created.id)).toMatchObject({
      status: 'disabled',
      statusReason: 'credentials_rejected',
    });
    expect((await projected(created.id)).status).toBe('disabled');
    await waitFor(() => subscription.changes.some((c) => c.kind === 'channels'), {
      what: 'channels notification',
    });
    const page = await events(created.id);
    expect(page.items).toEqual([
      {
        id: expect.any(String),
        channelId: created.id,
        kind: 'credentials_rejected',
        detail: {
          status: 403,
          reportedAt: expect.any(String),
          credential: fp,
          previousStatus: 'enabled',
        },
        createdAt: expect.any(String),
      },
    ]);
    const audit = await sut.db
      .getRepository(AuditLogEntity)
      .findBy({ action: 'channel.credentials_rejected', targetId: created.id });
    expect(audit).toHaveLength(1);
    expect(audit[0]!.actorUserId).toBeNull();
    expect(JSON.stringify(audit)).not.toContain('sk-provider-credential');
  });

  it('applies one credential once when replicas race on the same report', async () => {
    const created = await createChannel();
    const entry = {
      credential: await fingerprintOf(created.id),
      status: 401,
      at: new Date().toISOString(),
    };
    const consumer = sut.app.get(CredentialRejectionsService);

    const outcomes = await Promise.all([
      consumer.apply(created.id, entry),
      consumer.apply(created.id, entry),
      consumer.apply(created.id, entry),
    ]);

    expect(outcomes.sort()).toEqual(['already_applied', 'already_applied', 'disabled']);
    expect((await events(created.id)).items).toHaveLength(1);
  });

  it('applies reports written while accounts was not listening, at start', async () => {
    const created = await createChannel();
    const consumer = sut.app.get(CredentialRejectionsService);
    await consumer.onApplicationShutdown();
    try {
      await report(created.id, await fingerprintOf(created.id), { publish: false });
      expect((await channel(created.id)).status).toBe('enabled');
    } finally {
      consumer.onApplicationBootstrap();
    }

    await waitForStatus(created.id, 'disabled');
    expect((await channel(created.id)).statusReason).toBe('credentials_rejected');
    expect((await events(created.id)).items).toHaveLength(1);
  });

  it('ignores a report about a credential that has been replaced since', async () => {
    const created = await createChannel();
    const old = await fingerprintOf(created.id);
    await sut.api('PATCH', `/api/v1/admin/channels/${created.id}`, {
      token: adminToken,
      body: { apiKey: 'sk-new-credential' },
    });

    await report(created.id, old);
    await drain();

    expect((await channel(created.id)).status).toBe('enabled');
    expect((await events(created.id)).items).toEqual([]);
  });

  it('stays disabled after a new key alone; an admin enable lifts it for every proxy, and a later refusal counts again', async () => {
    const created = await createChannel();
    await report(created.id, await fingerprintOf(created.id));
    await waitForStatus(created.id, 'disabled');

    const rotated = await sut.api<ChannelResponseDto>(
      'PATCH',
      `/api/v1/admin/channels/${created.id}`,
      { token: adminToken, body: { apiKey: 'sk-fixed-credential' } },
    );
    expect(rotated.body).toMatchObject({
      status: 'disabled',
      statusReason: 'credentials_rejected',
    });
    expect(await sut.redis.hget(channelHealthKeys.rejected(prefix), created.id)).not.toBeNull();

    const enabled = await sut.api<ChannelResponseDto>(
      'PATCH',
      `/api/v1/admin/channels/${created.id}`,
      { token: adminToken, body: { status: 'enabled' } },
    );
    expect(enabled.body).toMatchObject({ status: 'enabled', statusReason: null });
    expect(await sut.redis.hget(channelHealthKeys.rejected(prefix), created.id)).toBeNull();
    expect((await projected(created.id)).status).toBe('enabled');
    const row = await sut.db.getRepository(ChannelEntity).findOneByOrFail({ id: created.id });
    expect(row.rejectedCredential).toBeNull();

    await report(created.id, await fingerprintOf(created.id));
    await waitForStatus(created.id, 'disabled');
    const history = await events(created.id);
    expect(history.items.map((e) => e.kind)).toEqual([
      'credentials_rejected',
      'credentials_rejected',
    ]);
    expect(history.items[0]!.detail.credential).not.toBe(history.items[1]!.detail.credential);
  });

  it('skips unreadable entries and unknown channels', async () => {
    await sut.redis.hset(channelHealthKeys.rejected(prefix), 'not-a-channel', '{"credential":"x"}');
    await sut.redis.hset(
      channelHealthKeys.rejected(prefix),
      '00000000-0000-4000-8000-000000000000',
      'not json',
    );
    await sut.redis.publish(channelHealthKeys.channelEvents(prefix), 'not json');
    const before = await sut.db.getRepository(ChannelEventEntity).count();

    await sut.app.get(CredentialRejectionsService).scan();
    await drain();

    expect(await sut.db.getRepository(ChannelEventEntity).count()).toBe(before + 1);
  });

  it('pages events newest first and answers 404 for an unknown channel', async () => {
    const created = await createChannel();
    for (let i = 0; i < 3; i++) {
      await sut.api('PATCH', `/api/v1/admin/channels/${created.id}`, {
        token: adminToken,
        body: { status: 'enabled' },
      });
      await report(created.id, await fingerprintOf(created.id), { status: 401 + i });
      await waitForStatus(created.id, 'disabled');
    }

    const first = await events(created.id, '?limit=2');
    expect(first.items.map((e) => e.detail.status)).toEqual([403, 402]);
    expect(first.nextCursor).not.toBeNull();
    const second = await events(created.id, `?limit=2&cursor=${first.nextCursor!}`);
    expect(second.items.map((e) => e.detail.status)).toEqual([401]);
    expect(second.nextCursor).toBeNull();

    const unknown = await sut.api<ProblemDetails>(
      'GET',
      '/api/v1/admin/channels/00000000-0000-4000-8000-000000000000/events',
      { token: adminToken },
    );
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('channel_not_found');
  });
});
