import type { LoggerService } from '@nestjs/common';
import { type LimitScope, type ProjectionChange, projectionKeys } from '@tollgate/contracts';
import {
  type AnyAdmissionScope,
  AdmissionStore,
  type LimitSettings,
} from '@tollgate/server-admission';
import type Redis from 'ioredis';
import { type DataSource, In, MoreThanOrEqual } from 'typeorm';
import { ScopeLimitsEntity } from '../limits/scope-limits.entity';
import { ScopeModelLimitsEntity } from '../limits/scope-model-limits.entity';

const BATCH = 500;
const MAX_ROUNDS = 1_000_000;

export interface LimitTarget {
  scope: LimitScope;
  /** organisation, tenant or key id */
  id: string;
  organisationId: string;
  /** set: the per-model limits of this public model on the tenant or key (never on an org) */
  model?: string;
}

export function admissionScopeOf(t: LimitTarget): AnyAdmissionScope {
  switch (t.scope) {
    case 'org':
      if (t.model !== undefined) throw new Error('organisations have no per-model limits');
      return { kind: 'org', orgId: t.organisationId };
    case 'tenant':
      return t.model === undefined
        ? { kind: 'tenant', orgId: t.organisationId, tenantId: t.id }
        : { kind: 'tenant-model', orgId: t.organisationId, tenantId: t.id, model: t.model };
    case 'key':
      return t.model === undefined
        ? { kind: 'key', orgId: t.organisationId, keyId: t.id }
        : { kind: 'key-model', orgId: t.organisationId, keyId: t.id, model: t.model };
  }
}

function targetOfScope(s: AnyAdmissionScope): LimitTarget {
  switch (s.kind) {
    case 'org':
      return { scope: 'org', id: s.orgId, organisationId: s.orgId };
    case 'tenant':
      return { scope: 'tenant', id: s.tenantId, organisationId: s.orgId };
    case 'key':
      return { scope: 'key', id: s.keyId, organisationId: s.orgId };
    case 'tenant-model':
      return { scope: 'tenant', id: s.tenantId, organisationId: s.orgId, model: s.model };
    case 'key-model':
      return { scope: 'key', id: s.keyId, organisationId: s.orgId, model: s.model };
  }
}

type LimitRow = Pick<
  ScopeLimitsEntity,
  'dailyBudgetNano' | 'monthlyBudgetNano' | 'totalBudgetNano' | 'rpm' | 'tpm' | 'maxConcurrent'
>;

export function toLimitSettings(row: LimitRow | null): LimitSettings | null {
  if (!row) return null;
  return {
    dailyBudgetNano: row.dailyBudgetNano,
    monthlyBudgetNano: row.monthlyBudgetNano,
    totalBudgetNano: row.totalBudgetNano,
    rpm: row.rpm,
    tpm: row.tpm,
    maxConcurrent: row.maxConcurrent,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const rowKey = (scope: string, id: string, model?: string) =>
  model === undefined ? `${scope}:${id}` : `${scope}:${id}:m:${model}`;

/**
 * Projects the limits of organisations, tenants and keys into the hashes the admission script
 * reads (`admissionKeys.limits`, through the admission lib's own writer), so every proxy replica
 * enforces a change from its next request on, and announces it as a `limits` change.
 */
export class LimitsProjection {
  readonly store: AdmissionStore;

  constructor(
    private readonly dataSource: DataSource,
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly logger: LoggerService,
  ) {
    this.store = new AdmissionStore(redis, { prefix });
  }

  /** Writes the scope's committed limits (or removes them) and announces the change. */
  async sync(target: LimitTarget): Promise<void> {
    const row =
      target.model === undefined
        ? await this.dataSource
            .getRepository(ScopeLimitsEntity)
            .findOne({ where: { scope: target.scope, scopeId: target.id } })
        : target.scope === 'org'
          ? null
          : await this.dataSource.getRepository(ScopeModelLimitsEntity).findOne({
              where: { scope: target.scope, scopeId: target.id, model: target.model },
            });
    await this.store.writeLimits(admissionScopeOf(target), toLimitSettings(row));
    await this.redis.publish(
      projectionKeys.changes(this.prefix),
      JSON.stringify({ kind: 'limits', ...target } satisfies ProjectionChange),
    );
  }

  /**
   * Rewrites every scope's limits (and every per-model limit of tenants and keys) from PostgreSQL,
   * then removes limit hashes of scopes that have no row (anything written by hand or left by a
   * deleted scope). Returns the rows written.
   */
  async rebuild(since: Date): Promise<{ written: number; staleRemoved: number }> {
    const repo = this.dataSource.getRepository(ScopeLimitsEntity);
    const modelRepo = this.dataSource.getRepository(ScopeModelLimitsEntity);
    const known = new Set<string>();
    let written = 0;
    for (const table of [repo, modelRepo] as const) {
      let after: string | null = null;
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const qb = table.createQueryBuilder('l').orderBy('l.id', 'ASC').limit(BATCH);
        if (after) qb.where('l.id > :after', { after });
        const rows: (ScopeLimitsEntity | ScopeModelLimitsEntity)[] = await qb.getMany();
        for (const row of rows) {
          known.add(rowKey(row.scope, row.scopeId, 'model' in row ? row.model : undefined));
          await this.write(row);
        }
        written += rows.length;
        if (rows.length < BATCH) break;
        after = rows[rows.length - 1]!.id;
      }
    }

    const candidates: LimitTarget[] = [];
    for await (const scope of this.store.scanLimitScopes()) {
      const t = targetOfScope(scope);
      if (!known.has(rowKey(t.scope, t.id, t.model))) candidates.push(t);
      if (candidates.length > 1_000_000) break;
    }
    let staleRemoved = 0;
    for (let i = 0; i < candidates.length; i += BATCH) {
      const batch = candidates.slice(i, i + BATCH);
      // A scope whose limits were first set after the pass above read the table is live, not stale.
      const ids = batch.map((t) => t.id).filter((id) => UUID.test(id));
      const [existing, existingModels] = ids.length
        ? await Promise.all([
            repo.find({ where: { scopeId: In(ids) }, select: { scope: true, scopeId: true } }),
            modelRepo.find({
              where: { scopeId: In(ids) },
              select: { scope: true, scopeId: true, model: true },
            }),
          ])
        : [[], []];
      const keep = new Set([
        ...existing.map((r) => rowKey(r.scope, r.scopeId)),
        ...existingModels.map((r) => rowKey(r.scope, r.scopeId, r.model)),
      ]);
      for (const t of batch) {
        if (keep.has(rowKey(t.scope, t.id, t.model))) continue;
        await this.store.writeLimits(admissionScopeOf(t), null);
        staleRemoved++;
      }
    }

    // Rows changed while (or just before) the passes above ran may have been read before the change.
    const recent = await repo.find({ where: { updatedAt: MoreThanOrEqual(since) } });
    for (const row of recent) await this.write(row);
    const recentModels = await modelRepo.find({ where: { updatedAt: MoreThanOrEqual(since) } });
    for (const row of recentModels) await this.write(row);
    if (staleRemoved) {
      this.logger.log({ msg: 'stale limit projections removed', staleRemoved }, 'Projections');
    }
    return { written, staleRemoved };
  }

  private write(row: ScopeLimitsEntity | ScopeModelLimitsEntity): Promise<void> {
    return this.store.writeLimits(
      admissionScopeOf({
        scope: row.scope,
        id: row.scopeId,
        organisationId: row.organisationId,
        ...('model' in row ? { model: row.model } : {}),
      }),
      toLimitSettings(row),
    );
  }
}
