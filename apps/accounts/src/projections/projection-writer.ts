import type { LoggerService } from '@nestjs/common';
import { type ChannelProjection, type ProjectionChange, projectionKeys } from '@tollgate/contracts';
import type { SecretBox } from '@tollgate/server-kit';
import type Redis from 'ioredis';
import type { ChainableCommander, Result } from 'ioredis';
import { Brackets, type DataSource, In, MoreThan } from 'typeorm';
import { ChannelEntity } from '../channels/channel.entity';
import { ApiKeyEntity } from '../keys/api-key.entity';
import { LimitsProjection, type LimitTarget } from './limits-projection';
import { toChannelProjection, toKeyRecord } from './projection-mappers';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    tollgateSetKeyRecord(key: string, json: string, revoked: '0' | '1'): Result<number, Context>;
  }
}

/**
 * Writes a key record unless the stored one says revoked and the new one does not: revocation is
 * final, so a slower writer holding an older read (a concurrent edit, a rebuild) can never bring a
 * revoked key back. An unreadable stored value is overwritten.
 */
const SET_KEY_RECORD_LUA = `
local current = redis.call('GET', KEYS[1])
if current and ARGV[2] == '0' then
  local ok, record = pcall(cjson.decode, current)
  if ok and type(record) == 'table' and record['revoked'] == true then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1])
return 1
`;

const BATCH = 500;
/** Rows changed this long before a rebuild started are written again after it, in case they raced it. */
const REBUILD_OVERLAP_MS = 60_000;
const MAX_SCAN_ROUNDS = 1_000_000;

export interface RebuildReport {
  keyRecords: number;
  staleKeyRecordsRemoved: number;
  channels: number;
  /** scopes (organisations, tenants, keys; per-model too) whose limits were written */
  limits: number;
  /** limit hashes in Redis of scopes without limits in PostgreSQL, removed */
  staleLimitsRemoved: number;
  /** channels whose stored credential does not open with the configured encryption key */
  undecryptableChannels: string[];
  durationMs: number;
}

function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}

/**
 * Projects routing state (key records, channels) from PostgreSQL into Redis for the proxy and
 * announces each change on the changes channel. Reads the committed rows, so the last writer
 * always writes the latest state. Used by the API (through ProjectionsService) and by the
 * rebuild-projections entry.
 */
export class ProjectionWriter {
  readonly limits: LimitsProjection;

  constructor(
    private readonly dataSource: DataSource,
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly logger: LoggerService,
    private readonly secretBox?: SecretBox,
  ) {
    redis.defineCommand('tollgateSetKeyRecord', { numberOfKeys: 1, lua: SET_KEY_RECORD_LUA });
    this.limits = new LimitsProjection(dataSource, redis, prefix, logger);
  }

  /** Writes the limits of one scope where the admission script reads them, and announces it. */
  syncLimits(target: LimitTarget): Promise<void> {
    return this.limits.sync(target);
  }

  /** Re-projects the given keys (by id) and announces each. */
  async syncKeys(keyIds: readonly string[]): Promise<void> {
    for (let i = 0; i < keyIds.length; i += BATCH) {
      const keys = await this.keyQuery()
        .where({ id: In(keyIds.slice(i, i + BATCH)) })
        .getMany();
      await this.writeKeys(keys, true);
    }
  }

  /** Re-projects every key of a tenant (its name, group or fallback changed). */
  syncTenantKeys(tenantId: string): Promise<void> {
    return this.syncKeysWhere('k.tenant_id = :id', tenantId);
  }

  /** Re-projects every key of an organisation (its time zone or fail-open setting changed). */
  syncOrganisationKeys(organisationId: string): Promise<void> {
    return this.syncKeysWhere('k.organisation_id = :id', organisationId);
  }

  private async syncKeysWhere(condition: string, id: string): Promise<void> {
    let after: string | null = null;
    for (let round = 0; round < MAX_SCAN_ROUNDS; round++) {
      const qb = this.keyQuery().where(condition, { id });
      if (after) qb.andWhere('k.id > :after', { after });
      const keys = await qb.orderBy('k.id', 'ASC').limit(BATCH).getMany();
      await this.writeKeys(keys, true);
      if (keys.length < BATCH) return;
      after = keys[keys.length - 1]!.id;
    }
  }

  async syncChannel(channelId: string): Promise<void> {
    const channel = await this.dataSource
      .getRepository(ChannelEntity)
      .findOne({ where: { id: channelId } });
    const key = projectionKeys.channels(this.prefix);
    const tx = this.redis.multi();
    if (channel) tx.hset(key, channel.id, JSON.stringify(toChannelProjection(channel)));
    else tx.hdel(key, channelId);
    this.publish(tx, { kind: 'channels' });
    await this.exec(tx);
  }

  /**
   * Rebuilds everything from PostgreSQL: rewrites every key record, removes records of keys that
   * no longer exist (and anything unreadable under the key-record prefix), replaces the channels
   * hash atomically, then announces `all`.
   */
  async rebuildAll(): Promise<RebuildReport> {
    const started = Date.now();
    const since = new Date(started - REBUILD_OVERLAP_MS);

    const known = new Set<string>();
    let keyRecords = 0;
    let after: { createdAt: Date; id: string } | null = null;
    for (let round = 0; round < MAX_SCAN_ROUNDS; round++) {
      const qb = this.keyQuery();
      if (after)
        qb.where('(k.created_at, k.id) > (:at, :id)', { at: after.createdAt, id: after.id });
      const keys = await qb
        .orderBy('k.createdAt', 'ASC')
        .addOrderBy('k.id', 'ASC')
        .limit(BATCH)
        .getMany();
      for (const k of keys) known.add(k.secretHash);
      await this.writeKeys(keys, false);
      keyRecords += keys.length;
      if (keys.length < BATCH) break;
      const last = keys[keys.length - 1]!;
      after = { createdAt: last.createdAt, id: last.id };
    }

    const staleKeyRecordsRemoved = await this.removeStaleKeyRecords(known);

    const channels = await this.dataSource
      .getRepository(ChannelEntity)
      .find({ order: { createdAt: 'ASC' } });
    const undecryptableChannels = channels.filter((c) => !this.opens(c)).map((c) => c.id);
    for (const id of undecryptableChannels) {
      this.logger.warn(
        { msg: 'channel credential does not open with the configured key', channelId: id },
        'Projections',
      );
    }
    await this.replaceChannels(channels.map(toChannelProjection));
    const limits = await this.limits.rebuild(since);

    // Rows changed while (or just before) the passes above ran may have been read before the change.
    const recentKeys = await this.keyQuery()
      .where(
        new Brackets((w) =>
          w
            .where('k.updated_at >= :since', { since })
            .orWhere('t.updated_at >= :since', { since })
            .orWhere('o.updated_at >= :since', { since }),
        ),
      )
      .getMany();
    await this.writeKeys(recentKeys, false);
    const recentChannels = await this.dataSource
      .getRepository(ChannelEntity)
      .find({ where: { updatedAt: MoreThan(since) } });
    if (recentChannels.length) {
      const tx = this.redis.multi();
      for (const c of recentChannels) {
        tx.hset(projectionKeys.channels(this.prefix), c.id, JSON.stringify(toChannelProjection(c)));
      }
      await this.exec(tx);
    }

    await this.redis.publish(
      projectionKeys.changes(this.prefix),
      JSON.stringify({ kind: 'all' } satisfies ProjectionChange),
    );
    const report: RebuildReport = {
      keyRecords,
      staleKeyRecordsRemoved,
      channels: channels.length,
      limits: limits.written,
      staleLimitsRemoved: limits.staleRemoved,
      undecryptableChannels,
      durationMs: Date.now() - started,
    };
    this.logger.log({ msg: 'projections rebuilt', ...report }, 'Projections');
    return report;
  }

  private keyQuery() {
    return this.dataSource
      .getRepository(ApiKeyEntity)
      .createQueryBuilder('k')
      .innerJoinAndSelect('k.tenant', 't')
      .innerJoinAndSelect('k.organisation', 'o');
  }

  private async writeKeys(keys: ApiKeyEntity[], announce: boolean): Promise<void> {
    if (!keys.length) return;
    const pipeline = this.redis.pipeline();
    for (const key of keys) {
      const record = toKeyRecord(key, key.tenant!, key.organisation!);
      pipeline.tollgateSetKeyRecord(
        projectionKeys.keyRecord(this.prefix, key.secretHash),
        JSON.stringify(record),
        record.revoked ? '1' : '0',
      );
      if (announce) this.publish(pipeline, { kind: 'key', hash: key.secretHash });
    }
    await this.exec(pipeline);
  }

  private async removeStaleKeyRecords(known: Set<string>): Promise<number> {
    const recordPrefix = projectionKeys.keyRecord(this.prefix, '');
    const candidates: string[] = [];
    let cursor = '0';
    for (let round = 0; round < MAX_SCAN_ROUNDS; round++) {
      const [next, found] = await this.redis.scan(
        cursor,
        'MATCH',
        `${escapeGlob(recordPrefix)}*`,
        'COUNT',
        1000,
      );
      for (const redisKey of found) {
        const hash = redisKey.slice(recordPrefix.length);
        if (!known.has(hash)) candidates.push(redisKey);
      }
      cursor = next;
      if (cursor === '0') break;
    }
    let removed = 0;
    for (let i = 0; i < candidates.length; i += BATCH) {
      const batch = candidates.slice(i, i + BATCH);
      const hashes = batch
        .map((k) => k.slice(recordPrefix.length))
        .filter((h) => /^[0-9a-f]{64}$/.test(h));
      // A key created after the pass above read the table is live, not stale.
      const existing = hashes.length
        ? await this.dataSource
            .getRepository(ApiKeyEntity)
            .find({ where: { secretHash: In(hashes) }, select: { secretHash: true } })
        : [];
      const keep = new Set(
        existing.map((k) => projectionKeys.keyRecord(this.prefix, k.secretHash)),
      );
      const stale = batch.filter((k) => !keep.has(k));
      if (stale.length) removed += await this.redis.del(...stale);
    }
    return removed;
  }

  private async replaceChannels(channels: ChannelProjection[]): Promise<void> {
    const key = projectionKeys.channels(this.prefix);
    const tx = this.redis.multi().del(key);
    if (channels.length) {
      tx.hset(key, Object.fromEntries(channels.map((c) => [c.id, JSON.stringify(c)])));
    }
    await this.exec(tx);
  }

  private opens(channel: ChannelEntity): boolean {
    if (!this.secretBox) return true;
    try {
      this.secretBox.open(channel.encryptedApiKey, channel.id);
      return true;
    } catch {
      return false;
    }
  }

  private publish(commands: ChainableCommander, change: ProjectionChange): void {
    commands.publish(projectionKeys.changes(this.prefix), JSON.stringify(change));
  }

  private async exec(commands: ChainableCommander): Promise<void> {
    const results = await commands.exec();
    if (!results) throw new Error('redis transaction aborted');
    for (const [err] of results) if (err) throw err;
  }
}
