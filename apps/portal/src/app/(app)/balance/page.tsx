import Link from 'next/link';
import type { Metadata } from 'next';
import { ProblemAlert } from '../../../components/problem-alert';
import { budgetBackend } from '../../../lib/budget-backend';
import { formatDateTime, formatUsd } from '../../../lib/format';
import { load, one } from '../../../lib/load';
import { canReadSpend } from '../../../lib/org';
import { authed, getCurrentContext } from '../../../lib/server-session';
import { NoOrganisation } from '../no-organisation';
import { RedeemForm } from './redeem-form';

export const metadata: Metadata = { title: 'Prepaid balance' };

const PAGE_SIZE = 50;

export default async function BalancePage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { org } = await getCurrentContext();
  if (!org) return <NoOrganisation />;
  if (!canReadSpend(org.role)) {
    return (
      <div className="panel" data-testid="balance-forbidden">
        <h1>Prepaid balance</h1>
        <p className="muted">
          Your role ({org.role}) cannot read the organisation&apos;s balance and credits.
        </p>
      </div>
    );
  }
  const orgId = org.organisationId;
  const cursor = one((await searchParams).cursor);
  const [balance, credits] = await Promise.all([
    load(() => authed((t) => budgetBackend.getBalance(t, orgId))),
    load(() => authed((t) => budgetBackend.listCredits(t, orgId, { limit: PAGE_SIZE, cursor }))),
  ]);

  return (
    <>
      <div className="page-head">
        <h1>Prepaid balance</h1>
        <p className="sub">{org.organisationName} · amounts in US dollars</p>
      </div>
      <div className="grid-2">
        <section className="panel" aria-labelledby="balance-title">
          <h2 id="balance-title">Balance</h2>
          {!balance.ok ? (
            <ProblemAlert problem={balance.problem} testId="balance-problem" />
          ) : !balance.data.prepaid ? (
            <p className="empty" data-testid="balance-not-prepaid">
              This organisation has no prepaid credit: requests are not limited by a balance, only
              by the budgets you set. Redeeming a code or a credit from the platform starts prepaid
              billing.
            </p>
          ) : (
            <>
              <p
                className="stat"
                data-testid="balance-amount"
                data-amount={balance.data.balanceUsd}
              >
                {formatUsd(balance.data.balanceUsd)}
              </p>
              <dl>
                <dt>Credited</dt>
                <dd data-testid="balance-credited">{formatUsd(balance.data.creditedUsd)}</dd>
                <dt>Spent since the first credit</dt>
                <dd>{formatUsd(balance.data.spentUsd)}</dd>
                {balance.data.liveBalanceUsd !== null && (
                  <>
                    <dt>Live balance the gateway admits against</dt>
                    <dd>
                      {formatUsd(balance.data.liveBalanceUsd)}{' '}
                      <span className="small muted">
                        (includes requests settled but not yet in the ledger)
                      </span>
                    </dd>
                  </>
                )}
              </dl>
              <p className="small muted">
                When the balance is used up, requests are refused with{' '}
                <code>insufficient_quota</code>.
              </p>
            </>
          )}
        </section>
        <section className="panel">
          {org.role === 'owner' ? (
            <RedeemForm orgId={orgId} />
          ) : (
            <p className="muted">Only the organisation&apos;s owner can redeem codes.</p>
          )}
        </section>
      </div>
      <section className="panel" aria-labelledby="credits-title">
        <h2 id="credits-title">Credits</h2>
        {!credits.ok ? (
          <ProblemAlert problem={credits.problem} />
        ) : credits.data.items.length === 0 ? (
          <p className="empty" data-testid="credits-empty">
            No credits yet.
          </p>
        ) : (
          <div className="table-wrap">
            <table data-testid="credits-table">
              <thead>
                <tr>
                  <th scope="col">Date</th>
                  <th scope="col">Source</th>
                  <th scope="col">Note</th>
                  <th scope="col" className="num">
                    Amount
                  </th>
                </tr>
              </thead>
              <tbody>
                {credits.data.items.map((c) => (
                  <tr key={c.id} data-testid="credit-row">
                    <td className="small">{formatDateTime(c.createdAt)}</td>
                    <td>{c.source === 'redemption' ? 'redeemed code' : 'credit grant'}</td>
                    <td className="small">{c.note ?? ''}</td>
                    <td className="num">{formatUsd(c.amountUsd)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {credits.ok && (cursor || credits.data.nextCursor) && (
          <div className="pager">
            {cursor && <Link href="/balance">Newest</Link>}
            {credits.data.nextCursor && (
              <Link href={`/balance?cursor=${encodeURIComponent(credits.data.nextCursor)}`}>
                Older credits
              </Link>
            )}
          </div>
        )}
      </section>
    </>
  );
}
