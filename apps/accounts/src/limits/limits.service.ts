import { Injectable } from '@nestjs/common';
import {
  type AccessTokenClaims,
  type LimitScope,
  type LimitsResponseDto,
  type LimitsStateResponseDto,
  type ModelLimitScope,
  type ModelLimitsListResponseDto,
  type ModelLimitsResponseDto,
  type ModelLimitsStateResponseDto,
  type OrgRole,
  type UpdateLimitsRequestDto,
} from '@tollgate/contracts';
import { formatNanoAsUsd, InvalidUsdAmountError, parseUsdToNano } from '@tollgate/pricing';
import type { AdmissionState } from '@tollgate/server-admission';
import { DataSource, type EntityManager, type FindOptionsWhere } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { OrgAction } from '../access/access-policy';
import { OrgAccessService } from '../access/org-access.service';
import { AuditAction, AuditService } from '../audit/audit.service';
import { AccountsErrorCode, AccountsException } from '../common/accounts.exception';
import { ApiKeyEntity } from '../keys/api-key.entity';
import { OrganisationEntity } from '../organisations/organisation.entity';
import { admissionScopeOf, type LimitTarget } from '../projections/limits-projection';
import { ProjectionsService } from '../projections/projections.service';
import { TenantEntity } from '../tenants/tenant.entity';
import { ScopeLimitsEntity } from './scope-limits.entity';
import { ScopeModelLimitsEntity } from './scope-model-limits.entity';

type LimitColumns = Pick<
  ScopeLimitsEntity,
  'dailyBudgetNano' | 'monthlyBudgetNano' | 'totalBudgetNano' | 'rpm' | 'tpm' | 'maxConcurrent'
>;

const BUDGETS = [
  ['dailyBudgetUsd', 'dailyBudgetNano'],
  ['monthlyBudgetUsd', 'monthlyBudgetNano'],
  ['totalBudgetUsd', 'totalBudgetNano'],
] as const;
const COUNTS = ['rpm', 'tpm', 'maxConcurrent'] as const;
const API_FIELD: Record<keyof LimitColumns, keyof LimitsResponseDto> = {
  dailyBudgetNano: 'dailyBudgetUsd',
  monthlyBudgetNano: 'monthlyBudgetUsd',
  totalBudgetNano: 'totalBudgetUsd',
  rpm: 'rpm',
  tpm: 'tpm',
  maxConcurrent: 'maxConcurrent',
};

const NOT_FOUND: Record<LimitScope, AccountsErrorCode> = {
  org: AccountsErrorCode.OrganisationNotFound,
  tenant: AccountsErrorCode.TenantNotFound,
  key: AccountsErrorCode.ApiKeyNotFound,
};

const usd = (nano: bigint | null): string | null => (nano === null ? null : formatNanoAsUsd(nano));

const hasLimits = (row: LimitColumns): boolean =>
  (Object.keys(API_FIELD) as (keyof LimitColumns)[]).some((k) => row[k] !== null);

export function toLimitsResponse(row: LimitColumns | null): LimitsResponseDto {
  return {
    dailyBudgetUsd: usd(row?.dailyBudgetNano ?? null),
    monthlyBudgetUsd: usd(row?.monthlyBudgetNano ?? null),
    totalBudgetUsd: usd(row?.totalBudgetNano ?? null),
    rpm: row?.rpm ?? null,
    tpm: row?.tpm ?? null,
    maxConcurrent: row?.maxConcurrent ?? null,
  };
}

/** The columns the request changes: `undefined` keeps, `null` clears, a value sets. */
export function limitChanges(dto: UpdateLimitsRequestDto): Partial<LimitColumns> {
  const changes: Partial<LimitColumns> = {};
  for (const [field, column] of BUDGETS) {
    const value = dto[field];
    if (value === undefined) continue;
    try {
      changes[column] = value === null ? null : parseUsdToNano(value);
    } catch (err) {
      // the DTO pattern refuses these first; kept so a looser pattern can never store junk
      if (!(err instanceof InvalidUsdAmountError)) throw err;
      const message = `${field} must be a decimal string of US dollars`;
      throw new AccountsException(AccountsErrorCode.ValidationFailed, message, {
        errors: [message],
      });
    }
  }
  for (const field of COUNTS) {
    const value = dto[field];
    if (value !== undefined) changes[field] = value;
  }
  return changes;
}

/** Budgets and rate limits of organisations, tenants and keys: PostgreSQL first, then Redis. */
@Injectable()
export class LimitsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly access: OrgAccessService,
    private readonly audit: AuditService,
    private readonly projections: ProjectionsService,
  ) {}

  /** The settings and live counters; any member of the organisation may read them. */
  async get(
    caller: AccessTokenClaims,
    scope: LimitScope,
    id: string,
  ): Promise<LimitsStateResponseDto> {
    const target = await this.resolve(caller, scope, id, OrgAction.Read);
    const [row, live] = await Promise.all([
      this.dataSource
        .getRepository(ScopeLimitsEntity)
        .findOne({ where: { scope, scopeId: target.id } }),
      this.live(target),
    ]);
    return { scope, ...toLimitsResponse(row), ...live };
  }

  /** The per-model settings and live counters of one model on a tenant or key (any role). */
  async getModel(
    caller: AccessTokenClaims,
    scope: ModelLimitScope,
    id: string,
    model: string,
  ): Promise<ModelLimitsStateResponseDto> {
    const target: LimitTarget = {
      ...(await this.resolve(caller, scope, id, OrgAction.Read)),
      model,
    };
    const [row, live] = await Promise.all([
      this.dataSource
        .getRepository(ScopeModelLimitsEntity)
        .findOne({ where: { scope, scopeId: target.id, model } }),
      this.live(target),
    ]);
    return { scope, model, ...toLimitsResponse(row), ...live };
  }

  /** Every model with per-model limits on the tenant or key, by name (any role). */
  async listModels(
    caller: AccessTokenClaims,
    scope: ModelLimitScope,
    id: string,
  ): Promise<ModelLimitsListResponseDto> {
    const target = await this.resolve(caller, scope, id, OrgAction.Read);
    const rows = await this.dataSource
      .getRepository(ScopeModelLimitsEntity)
      .find({ where: { scope, scopeId: target.id }, order: { model: 'ASC' } });
    return {
      items: rows.filter(hasLimits).map((r) => ({ model: r.model, ...toLimitsResponse(r) })),
    };
  }

  /** The organisation's time zone and the scope's live counters (admission state in Redis). */
  private async live(
    target: LimitTarget,
  ): Promise<Pick<LimitsStateResponseDto, 'timeZone' | 'usage'>> {
    const organisation = await this.dataSource
      .getRepository(OrganisationEntity)
      .findOneByOrFail({ id: target.organisationId });
    let state: AdmissionState;
    try {
      state = await this.projections.admission.readState(admissionScopeOf(target), {
        timeZone: organisation.billingTimeZone,
      });
    } catch (err) {
      throw new AccountsException(
        AccountsErrorCode.DependencyUnavailable,
        'the live spend counters cannot be read right now',
        { retryAfterSeconds: 1, cause: err },
      );
    }
    const iso = (ms: number) => new Date(ms).toISOString();
    const amount = (nano: bigint) => formatNanoAsUsd(nano);
    return {
      timeZone: organisation.billingTimeZone,
      usage: {
        day: {
          id: state.day.id,
          start: iso(state.day.start),
          end: iso(state.day.end),
          spentUsd: amount(state.day.spentNano),
          reservedUsd: amount(state.day.reservedNano),
        },
        month: {
          id: state.month.id,
          start: iso(state.month.start),
          end: iso(state.month.end),
          spentUsd: amount(state.month.spentNano),
          reservedUsd: amount(state.month.reservedNano),
        },
        total: {
          spentUsd: amount(state.total.spentNano),
          reservedUsd: amount(state.total.reservedNano),
        },
        requestsLastMinute: state.requestsLastMinute,
        tokensLastMinute: state.tokensLastMinute,
        concurrent: state.concurrent,
      },
    };
  }

  /**
   * Sets, clears (null) or keeps (absent) each limit, records the change in the audit log and
   * projects the result where the admission script reads it. Projected on every call, so a client
   * whose first attempt could not reach Redis (503) simply repeats the request.
   */
  async put(
    caller: AccessTokenClaims,
    scope: LimitScope,
    id: string,
    dto: UpdateLimitsRequestDto,
  ): Promise<LimitsResponseDto> {
    const changes = limitChanges(dto);
    const target = await this.resolve(caller, scope, id, OrgAction.ManageLimits);
    const row = await this.dataSource.transaction(async (m) => {
      const current = await this.lockRow(m, target);
      return this.applyChanges(m, ScopeLimitsEntity, current, changes, caller, target, scope, null);
    });
    await this.projections.limitsChanged(target, 'strict');
    return toLimitsResponse(row);
  }

  /**
   * Writes the limit columns that `changes` really changes on a locked row and audits them (the
   * values before, the changes in API units); the row as it is now. Nothing changed: nothing written.
   */
  private async applyChanges<E extends ScopeLimitsEntity | ScopeModelLimitsEntity>(
    m: EntityManager,
    entity: new () => E,
    current: E,
    changes: Partial<LimitColumns>,
    caller: AccessTokenClaims,
    target: { organisationId: string; id: string },
    scope: LimitScope,
    model: string | null,
  ): Promise<E> {
    const changed = (Object.keys(changes) as (keyof LimitColumns)[]).filter(
      (k) => changes[k] !== current[k],
    );
    if (!changed.length) return current;
    const update = Object.fromEntries(
      changed.map((k) => [k, changes[k]]),
    ) as QueryDeepPartialEntity<E>;
    const byId = { id: current.id } as FindOptionsWhere<E>;
    await m.update(entity, byId, update);
    await this.audit.record(m, {
      actorUserId: caller.sub,
      organisationId: target.organisationId,
      action: AuditAction.LimitsUpdated,
      targetType: targetType(scope),
      targetId: target.id,
      details: {
        scope,
        ...(model === null ? {} : { model }),
        before: toLimitsResponse(current),
        changes: Object.fromEntries(
          changed.map((k) => {
            const v = changes[k];
            return [API_FIELD[k], typeof v === 'bigint' ? usd(v) : v];
          }),
        ),
      },
    });
    return m.findOneByOrFail(entity, byId);
  }

  /**
   * Sets, clears (null) or keeps (absent) each per-model limit of one public model on a tenant or
   * key; audited and projected like `put`.
   */
  async putModel(
    caller: AccessTokenClaims,
    scope: ModelLimitScope,
    id: string,
    model: string,
    dto: UpdateLimitsRequestDto,
  ): Promise<ModelLimitsResponseDto> {
    const changes = limitChanges(dto);
    const target: LimitTarget = {
      ...(await this.resolve(caller, scope, id, OrgAction.ManageLimits)),
      model,
    };
    const row = await this.dataSource.transaction(async (m) => {
      await m
        .createQueryBuilder()
        .insert()
        .into(ScopeModelLimitsEntity)
        .values({ organisationId: target.organisationId, scope, scopeId: target.id, model })
        .orIgnore()
        .execute();
      const current = await this.lockModelRow(m, scope, target.id, model);
      if (!current) throw new Error('the per-model limits row vanished inside its transaction');
      return this.applyChanges(
        m,
        ScopeModelLimitsEntity,
        current,
        changes,
        caller,
        target,
        scope,
        model,
      );
    });
    await this.projections.limitsChanged(target, 'strict');
    return { model, ...toLimitsResponse(row) };
  }

  /**
   * Removes every per-model limit of one model on a tenant or key (idempotent: nothing to remove is
   * fine); audited as a change of each limit that was set to null, then projected.
   */
  async deleteModel(
    caller: AccessTokenClaims,
    scope: ModelLimitScope,
    id: string,
    model: string,
  ): Promise<void> {
    const target: LimitTarget = {
      ...(await this.resolve(caller, scope, id, OrgAction.ManageLimits)),
      model,
    };
    await this.dataSource.transaction(async (m) => {
      const current = await this.lockModelRow(m, scope, target.id, model);
      if (!current) return;
      await m.delete(ScopeModelLimitsEntity, { id: current.id });
      if (!hasLimits(current)) return;
      const cleared = (Object.keys(API_FIELD) as (keyof LimitColumns)[]).filter(
        (k) => current[k] !== null,
      );
      await this.audit.record(m, {
        actorUserId: caller.sub,
        organisationId: target.organisationId,
        action: AuditAction.LimitsUpdated,
        targetType: targetType(scope),
        targetId: target.id,
        details: {
          scope,
          model,
          deleted: true,
          before: toLimitsResponse(current),
          changes: Object.fromEntries(cleared.map((k) => [API_FIELD[k], null])),
        },
      });
    });
    await this.projections.limitsChanged(target, 'strict');
  }

  private lockModelRow(
    m: EntityManager,
    scope: ModelLimitScope,
    scopeId: string,
    model: string,
  ): Promise<ScopeModelLimitsEntity | null> {
    return m
      .getRepository(ScopeModelLimitsEntity)
      .createQueryBuilder('l')
      .setLock('pessimistic_write')
      .where('l.scope = :scope AND l.scope_id = :scopeId AND l.model = :model', {
        scope,
        scopeId,
        model,
      })
      .getOne();
  }

  /** The scope's row, created empty (unlimited) if missing, locked until the transaction ends. */
  private async lockRow(m: EntityManager, target: LimitTarget): Promise<ScopeLimitsEntity> {
    await m
      .createQueryBuilder()
      .insert()
      .into(ScopeLimitsEntity)
      .values({ organisationId: target.organisationId, scope: target.scope, scopeId: target.id })
      .orIgnore()
      .execute();
    return m
      .getRepository(ScopeLimitsEntity)
      .createQueryBuilder('l')
      .setLock('pessimistic_write')
      .where('l.scope = :scope AND l.scope_id = :id', { scope: target.scope, id: target.id })
      .getOneOrFail();
  }

  /** The scope with its organisation, when the caller's role there is one of `allowed`. */
  private async resolve(
    caller: AccessTokenClaims,
    scope: LimitScope,
    id: string,
    allowed: readonly OrgRole[],
  ): Promise<LimitTarget> {
    let organisationId: string | undefined;
    switch (scope) {
      case 'org':
        organisationId = id;
        break;
      case 'tenant':
        organisationId = (
          await this.dataSource
            .getRepository(TenantEntity)
            .findOne({ where: { id }, select: { id: true, organisationId: true } })
        )?.organisationId;
        break;
      case 'key':
        organisationId = (
          await this.dataSource
            .getRepository(ApiKeyEntity)
            .findOne({ where: { id }, select: { id: true, organisationId: true } })
        )?.organisationId;
        break;
    }
    if (organisationId === undefined) throw new AccountsException(NOT_FOUND[scope]);
    await this.access.require(caller, organisationId, allowed, NOT_FOUND[scope]);
    return { scope, id, organisationId };
  }
}

function targetType(scope: LimitScope): 'organisation' | 'tenant' | 'api_key' {
  switch (scope) {
    case 'org':
      return 'organisation';
    case 'tenant':
      return 'tenant';
    case 'key':
      return 'api_key';
  }
}
