import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  type AdmissionModelScope,
  type AdmissionScope,
  type AdmissionWindows,
  AdmissionStore,
  type AnyAdmissionScope,
  computeWindows,
  type SpendWindow,
} from '@tollgate/server-admission';
import type { DataSource } from 'typeorm';
import { CREDITS_ADMISSION, CreditsService } from '../credits/credits.service';

export interface ReconcileReport {
  organisations: number;
  /** counters compared (scope × window) */
  checked: number;
  /** counters overwritten with the ledger's value */
  repaired: number;
  /** counters that moved between read and write (left for the next run) */
  conflicts: number;
  /** prepaid balances overwritten with the ledger's value */
  balancesRepaired: number;
}

interface LedgerRow {
  tenant_id: string | null;
  key_id: string | null;
  day: string;
  month: string;
  total: string;
}

interface ModelLedgerRow extends LedgerRow {
  model: string;
  /** 1 when the row sums a tenant's spend on the model, 0 when a key's */
  by_tenant: number;
}

const SPEND_SUMS = `
  coalesce(sum(cost_nano_usd) FILTER (WHERE occurred_at >= $2 AND occurred_at < $3), 0)::text AS day,
  coalesce(sum(cost_nano_usd) FILTER (WHERE occurred_at >= $4 AND occurred_at < $5), 0)::text AS month,
  coalesce(sum(cost_nano_usd), 0)::text AS total`;

/**
 * Redis counters are the live view, the ledger is the truth: recompute committed spend per scope
 * (org, tenant, key, and every key × model or tenant × model scope that has limits) for the current
 * day, the current month (org billing time zone) and in total, and overwrite counters that differ. Writes are compare-and-set, so a settle that lands between
 * read and write is never lost (the counter is retried on the next run).
 *
 * Run it when the usage queue is drained (or accept that requests settled but not yet recorded
 * count as drift until the next run): the ledger lags the counters by the queue's latency.
 */
@Injectable()
export class ReconciliationService {
  private readonly logger = new Logger(ReconciliationService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(CREDITS_ADMISSION) private readonly admission: AdmissionStore,
    private readonly credits: CreditsService,
  ) {}

  async reconcile(options: { orgIds?: string[]; now?: number } = {}): Promise<ReconcileReport> {
    const now = options.now ?? Date.now();
    const orgIds =
      options.orgIds ??
      (
        (await this.db.query(
          `SELECT DISTINCT organisation_id FROM usage_ledger
           UNION SELECT DISTINCT organisation_id FROM credit_grants LIMIT 100000`,
        )) as { organisation_id: string }[]
      ).map((r) => r.organisation_id);
    const report: ReconcileReport = {
      organisations: 0,
      checked: 0,
      repaired: 0,
      conflicts: 0,
      balancesRepaired: 0,
    };
    const modelScopes = await this.modelScopesByOrg();
    for (const orgId of orgIds) {
      if (!/^[A-Za-z0-9._:-]{1,128}$/.test(orgId)) continue;
      report.organisations++;
      await this.reconcileOrg(orgId, now, report, modelScopes.get(orgId) ?? []);
    }
    if (report.repaired || report.balancesRepaired)
      this.logger.warn(`reconciliation repaired drift: ${JSON.stringify(report)}`);
    return report;
  }

  /** The per-model scopes with limits (their counters are kept only while they have limits). */
  private async modelScopesByOrg(): Promise<Map<string, AdmissionModelScope[]>> {
    const byOrg = new Map<string, AdmissionModelScope[]>();
    for await (const scope of this.admission.scanLimitScopes()) {
      if (scope.kind !== 'key-model' && scope.kind !== 'tenant-model') continue;
      const list = byOrg.get(scope.orgId) ?? [];
      list.push(scope);
      byOrg.set(scope.orgId, list);
    }
    return byOrg;
  }

  private async reconcileOrg(
    orgId: string,
    now: number,
    report: ReconcileReport,
    modelScopes: AdmissionModelScope[],
  ): Promise<void> {
    const timeZone = await this.admission.readTimeZone(orgId);
    const w = computeWindows(timeZone, now);
    const span = [
      new Date(w.dayStart),
      new Date(w.dayEnd),
      new Date(w.monthStart),
      new Date(w.monthEnd),
    ];
    const rows = (await this.db.query(
      `SELECT tenant_id, key_id, ${SPEND_SUMS}
         FROM usage_ledger WHERE organisation_id = $1
        GROUP BY GROUPING SETS ((), (tenant_id), (key_id))`,
      [orgId, ...span],
    )) as LedgerRow[];
    for (const row of rows) {
      const scope: AdmissionScope =
        row.key_id !== null
          ? { kind: 'key', orgId, keyId: row.key_id }
          : row.tenant_id !== null
            ? { kind: 'tenant', orgId, tenantId: row.tenant_id }
            : { kind: 'org', orgId };
      await this.repair(scope, w, row, report);
    }
    if (modelScopes.length > 0) {
      const models = [...new Set(modelScopes.map((s) => s.model))];
      const modelRows = (await this.db.query(
        `SELECT tenant_id, key_id, model, GROUPING(key_id) AS by_tenant, ${SPEND_SUMS}
           FROM usage_ledger WHERE organisation_id = $1 AND model = ANY($6::text[])
          GROUP BY GROUPING SETS ((tenant_id, model), (key_id, model))`,
        [orgId, ...span, models],
      )) as ModelLedgerRow[];
      const ledger = new Map<string, LedgerRow>();
      for (const row of modelRows) {
        const owner = Number(row.by_tenant) === 1 ? `t:${row.tenant_id}` : `k:${row.key_id}`;
        ledger.set(`${owner}:${row.model}`, row);
      }
      const none: LedgerRow = { tenant_id: null, key_id: null, day: '0', month: '0', total: '0' };
      for (const scope of modelScopes) {
        const owner = scope.kind === 'key-model' ? `k:${scope.keyId}` : `t:${scope.tenantId}`;
        await this.repair(scope, w, ledger.get(`${owner}:${scope.model}`) ?? none, report);
      }
    }
    const truth = await this.credits.truth(orgId);
    if (truth) {
      const live = await this.admission.readBalance(orgId);
      if (live !== truth.balance) {
        const outcome = await this.admission.replaceBalance(orgId, live, truth.balance);
        if (outcome === 'replaced') report.balancesRepaired++;
        else report.conflicts++;
      }
    }
  }

  /** Compares a scope's day, month and total counters with the ledger and overwrites drift. */
  private async repair(
    scope: AnyAdmissionScope,
    w: AdmissionWindows,
    row: LedgerRow,
    report: ReconcileReport,
  ): Promise<void> {
    const windows: [SpendWindow, bigint][] = [
      [{ kind: 'day', id: w.dayId }, BigInt(row.day)],
      [{ kind: 'month', id: w.monthId }, BigInt(row.month)],
      [{ kind: 'total' }, BigInt(row.total)],
    ];
    for (const [window, truth] of windows) {
      report.checked++;
      const live = await this.admission.readSpend(scope, window);
      if (live.spentNano === truth) continue;
      const outcome = await this.admission.replaceSpent(scope, window, {
        expectedNano: live.spentNano,
        valueNano: truth,
      });
      if (outcome === 'replaced') report.repaired++;
      else report.conflicts++;
    }
  }
}
