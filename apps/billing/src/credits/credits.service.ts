import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type {
  BalanceResponseDto,
  CreateCreditGrantRequestDto,
  CreateRedemptionCodesRequestDto,
  CreditGrantResponseDto,
  CreditSource,
  Page,
  PageQueryDto,
  RedemptionCodesCreatedResponseDto,
} from '@tollgate/contracts';
import { DEFAULT_PAGE_LIMIT } from '@tollgate/contracts';
import { formatNanoAsUsd, parseUsdToNano } from '@tollgate/pricing';
import { AdmissionStore } from '@tollgate/server-admission';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { decodeCursor, encodeCursor } from '../common/cursor';
import { CreditGrantEntity, RedemptionCodeEntity } from './credit.entities';
import { CreditsErrorCode, CreditsException } from './credits.exception';

export const CREDITS_ADMISSION = Symbol('CREDITS_ADMISSION');

export const hashRedemptionCode = (code: string): string =>
  createHash('sha256').update(code.trim().toUpperCase(), 'utf8').digest('hex');

/** `TG-` and 24 characters of Crockford base32 (120 bits): unguessable, easy to read aloud. */
function newRedemptionCode(): string {
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  const bytes = randomBytes(24);
  let out = '';
  for (const b of bytes) out += alphabet[b & 31];
  return `TG-${out.slice(0, 8)}-${out.slice(8, 16)}-${out.slice(16, 24)}`;
}

interface Caller {
  sub: string;
}

/**
 * The prepaid balance: PostgreSQL holds the truth (credits minus recorded spend since the first
 * credit); each credit is also added to the admission balance counter in Redis that the proxy
 * reserves against. Reconciliation repairs that counter if a projection write was lost.
 */
@Injectable()
export class CreditsService {
  private readonly logger = new Logger(CreditsService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(CREDITS_ADMISSION) private readonly admission: AdmissionStore,
  ) {}

  async grant(
    orgId: string,
    body: CreateCreditGrantRequestDto,
    caller: Caller,
  ): Promise<CreditGrantResponseDto> {
    const amount = this.positive(body.amountUsd);
    const row = await this.db
      .getRepository(CreditGrantEntity)
      .save(this.newGrant(orgId, amount, 'grant', body.note ?? null, null, caller));
    await this.project(orgId, amount);
    return toGrantDto(row);
  }

  async createCodes(
    body: CreateRedemptionCodesRequestDto,
    caller: Caller,
  ): Promise<RedemptionCodesCreatedResponseDto> {
    const amount = this.positive(body.amountUsd);
    const expiresAt = body.expiresAt ? new Date(body.expiresAt) : null;
    if (expiresAt && expiresAt.getTime() <= Date.now())
      throw new CreditsException(CreditsErrorCode.InvalidExpiry, 'expiresAt must be in the future');
    const now = new Date();
    const codes = Array.from({ length: body.count ?? 1 }, () => ({
      id: randomUUID(),
      code: newRedemptionCode(),
    }));
    await this.db.getRepository(RedemptionCodeEntity).insert(
      codes.map((c) => ({
        id: c.id,
        codeHash: hashRedemptionCode(c.code),
        amountNanoUsd: amount,
        expiresAt,
        createdBy: caller.sub,
        createdAt: now,
        redeemedByOrganisationId: null,
        redeemedBy: null,
        redeemedAt: null,
      })),
    );
    return {
      items: codes.map((c) => ({
        id: c.id,
        code: c.code,
        amountUsd: formatNanoAsUsd(amount),
        expiresAt: expiresAt?.toISOString() ?? null,
      })),
    };
  }

  /**
   * Single use under any concurrency: the conditional UPDATE claims the code (row lock, the loser
   * re-checks `redeemed_at` and updates nothing), and the unique index on the grant's code id backs it.
   */
  async redeem(orgId: string, code: string, caller: Caller): Promise<CreditGrantResponseDto> {
    const grant = await this.db.transaction(async (tx) => {
      const claimed = (await tx.query(
        `UPDATE redemption_codes
            SET redeemed_at = now(), redeemed_by_organisation_id = $2, redeemed_by = $3
          WHERE code_hash = $1 AND redeemed_at IS NULL AND (expires_at IS NULL OR expires_at > now())
          RETURNING id, amount_nano_usd`,
        [hashRedemptionCode(code), orgId, caller.sub],
      )) as [{ id: string; amount_nano_usd: string }[], number];
      const row = claimed[0][0];
      if (!row)
        throw new CreditsException(
          CreditsErrorCode.RedemptionCodeInvalid,
          'this code cannot be redeemed',
        );
      return tx
        .getRepository(CreditGrantEntity)
        .save(
          this.newGrant(orgId, BigInt(row.amount_nano_usd), 'redemption', null, row.id, caller),
        );
    });
    await this.project(orgId, grant.amountNanoUsd);
    return toGrantDto(grant);
  }

  async balance(orgId: string): Promise<BalanceResponseDto> {
    const truth = await this.truth(orgId);
    const live = await this.admission.readBalance(orgId).catch(() => null);
    return {
      organisationId: orgId,
      prepaid: truth !== null,
      balanceUsd: formatNanoAsUsd(truth?.balance ?? 0n),
      creditedUsd: formatNanoAsUsd(truth?.credited ?? 0n),
      spentUsd: formatNanoAsUsd(truth?.spent ?? 0n),
      liveBalanceUsd: live === null ? null : formatNanoAsUsd(live),
    };
  }

  /** Credits minus recorded spend since the first credit; null when the org never had credit. */
  async truth(orgId: string): Promise<{ credited: bigint; spent: bigint; balance: bigint } | null> {
    const [row] = (await this.db.query(
      `WITH c AS (
         SELECT sum(amount_nano_usd) AS credited, min(created_at) AS since
           FROM credit_grants WHERE organisation_id = $1)
       SELECT c.credited::text AS credited,
              (SELECT coalesce(sum(cost_nano_usd), 0) FROM usage_ledger u
                WHERE u.organisation_id = $1 AND u.occurred_at >= c.since)::text AS spent
         FROM c WHERE c.since IS NOT NULL`,
      [orgId],
    )) as { credited: string; spent: string }[];
    if (!row) return null;
    const credited = BigInt(row.credited);
    const spent = BigInt(row.spent);
    return { credited, spent, balance: credited - spent };
  }

  async history(orgId: string, query: PageQueryDto): Promise<Page<CreditGrantResponseDto>> {
    const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
    const qb = this.db
      .getRepository(CreditGrantEntity)
      .createQueryBuilder('g')
      .where('g.organisation_id = :orgId', { orgId })
      .orderBy('g.created_at', 'DESC')
      .addOrderBy('g.id', 'DESC')
      .take(limit + 1);
    if (query.cursor) {
      const [iso, id] = decodeCursor(query.cursor, 2) as [string, string];
      qb.andWhere('(g.created_at, g.id) < (:at, :id)', { at: iso, id });
    }
    const rows = await qb.getMany();
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map(toGrantDto),
      nextCursor:
        rows.length > limit && last ? encodeCursor([last.createdAt.toISOString(), last.id]) : null,
    };
  }

  private positive(amountUsd: string): bigint {
    const amount = parseUsdToNano(amountUsd);
    if (amount <= 0n)
      throw new CreditsException(CreditsErrorCode.AmountNotPositive, 'amountUsd must be above 0');
    return amount;
  }

  private newGrant(
    orgId: string,
    amount: bigint,
    source: CreditSource,
    note: string | null,
    redemptionCodeId: string | null,
    caller: Caller,
  ): CreditGrantEntity {
    return Object.assign(new CreditGrantEntity(), {
      id: randomUUID(),
      organisationId: orgId,
      amountNanoUsd: amount,
      source,
      note,
      redemptionCodeId,
      createdBy: caller.sub,
      createdAt: new Date(),
    });
  }

  /** Adds the credit to the live counter; a lost write is repaired by reconciliation, so log only. */
  private async project(orgId: string, amount: bigint): Promise<void> {
    try {
      await this.admission.creditBalance(orgId, amount);
    } catch (e) {
      this.logger.warn(
        `credit of ${orgId} saved but not projected to Redis (reconciliation will): ${String(e)}`,
      );
    }
  }
}

function toGrantDto(g: CreditGrantEntity): CreditGrantResponseDto {
  return {
    id: g.id,
    organisationId: g.organisationId,
    amountUsd: formatNanoAsUsd(g.amountNanoUsd),
    source: g.source as CreditSource,
    note: g.note,
    createdAt: g.createdAt.toISOString(),
  };
}
