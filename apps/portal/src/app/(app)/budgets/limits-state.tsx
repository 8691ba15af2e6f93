import type { LimitsStateResponseDto } from '@tollgate/contracts';
import { formatCount, formatUsd } from '../../../lib/format';
import { formatLimitCount, LIMIT_LABELS, percentUsed, type BudgetField } from '../../../lib/limits';

function Percent({ used, budget }: { used: string; budget: string | null }) {
  if (budget === null) return null;
  const pct = percentUsed(used, budget);
  if (pct === null) return null;
  return (
    <span
      className={`badge ${pct >= 100 ? 'badge-revoked' : pct >= 80 ? 'badge-expired' : 'badge-neutral'}`}
    >
      {pct}%
    </span>
  );
}

/**
 * The settings of a scope and, for roles that may read spend, the live counters the proxy admits
 * against: spent and held by requests in flight per window, and the last minute's traffic.
 */
export function LimitsState({
  state,
  showUsage,
}: {
  state: LimitsStateResponseDto;
  showUsage: boolean;
}) {
  const { usage } = state;
  const budgets: { f: BudgetField; window: string; spent: string; reserved: string }[] = [
    {
      f: 'dailyBudgetUsd',
      window: usage.day.id,
      spent: usage.day.spentUsd,
      reserved: usage.day.reservedUsd,
    },
    {
      f: 'monthlyBudgetUsd',
      window: usage.month.id,
      spent: usage.month.spentUsd,
      reserved: usage.month.reservedUsd,
    },
    {
      f: 'totalBudgetUsd',
      window: 'since the start',
      spent: usage.total.spentUsd,
      reserved: usage.total.reservedUsd,
    },
  ];
  const rates = [
    { f: 'rpm' as const, now: usage.requestsLastMinute, what: 'requests in the last minute' },
    { f: 'tpm' as const, now: usage.tokensLastMinute, what: 'tokens in the last minute' },
    { f: 'maxConcurrent' as const, now: usage.concurrent, what: 'in flight now' },
  ];
  return (
    <div className="table-wrap">
      <table data-testid="limits-table">
        <caption className="sr-only">Budgets and rate limits</caption>
        <thead>
          <tr>
            <th scope="col">Limit</th>
            <th scope="col">Window</th>
            <th scope="col" className="num">
              Setting
            </th>
            {showUsage && (
              <>
                <th scope="col" className="num">
                  Spent
                </th>
                <th scope="col" className="num">
                  In flight
                </th>
                <th scope="col">Used</th>
              </>
            )}
          </tr>
        </thead>
        <tbody>
          {budgets.map((b) => {
            const budget = state[b.f];
            return (
              <tr key={b.f} data-testid={`limit-row-${b.f}`}>
                <th scope="row">{LIMIT_LABELS[b.f]}</th>
                <td className="small">{b.window}</td>
                <td className="num" data-testid={`limit-value-${b.f}`} data-value={budget ?? ''}>
                  {budget === null ? 'unlimited' : formatUsd(budget)}
                </td>
                {showUsage && (
                  <>
                    <td className="num" data-testid={`limit-spent-${b.f}`}>
                      {formatUsd(b.spent)}
                    </td>
                    <td className="num">{formatUsd(b.reserved)}</td>
                    <td>
                      <Percent used={b.spent} budget={budget} />
                    </td>
                  </>
                )}
              </tr>
            );
          })}
          {rates.map((r) => {
            const limit = state[r.f];
            return (
              <tr key={r.f} data-testid={`limit-row-${r.f}`}>
                <th scope="row">{LIMIT_LABELS[r.f]}</th>
                <td className="small">{r.f === 'maxConcurrent' ? 'at once' : '60 seconds'}</td>
                <td className="num" data-testid={`limit-value-${r.f}`} data-value={limit ?? ''}>
                  {formatLimitCount(limit)}
                </td>
                {showUsage && (
                  <td className="small muted" colSpan={3}>
                    {limit === null
                      ? 'not counted without a limit'
                      : `${formatCount(r.now)} ${r.what}`}
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
