import Link from 'next/link';
import type { Metadata } from 'next';
import type { MonthlyReportResponseDto } from '@tollgate/contracts';
import { ProblemAlert } from '../../../components/problem-alert';
import { backend } from '../../../lib/backend';
import {
  formatCount,
  formatDateTime,
  formatUsd,
  isMonth,
  monthLabel,
  shiftMonth,
  shortId,
  utcMonth,
} from '../../../lib/format';
import { load, one } from '../../../lib/load';
import { canReadSpend } from '../../../lib/org';
import { authed, getCurrentContext } from '../../../lib/server-session';
import { NoOrganisation } from '../no-organisation';

export const metadata: Metadata = { title: 'Usage & spend' };

const USAGE_PAGE_SIZE = 50;

/** At most this many tenants' key lists are fetched to put names on the keys shown. */
const KEY_LOOKUP_TENANTS = 20;

interface KeyLabel {
  name: string;
  prefix: string | null;
}

/**
 * Names for the keys on the page: from the accounts key lists of the tenants involved (billing knows
 * ids; a name it recorded is the fallback). Failures only cost the names, never the page.
 */
async function keyLabels(
  tenantIds: string[],
  report: MonthlyReportResponseDto | null,
): Promise<Map<string, KeyLabel>> {
  const labels = new Map<string, KeyLabel>();
  for (const line of report?.lines ?? []) {
    if (line.keyName) labels.set(line.keyId, { name: line.keyName, prefix: null });
  }
  const lists = await Promise.all(
    tenantIds
      .slice(0, KEY_LOOKUP_TENANTS)
      .map((id) => load(() => authed((t) => backend.listKeys(t, id, { limit: 200 })))),
  );
  for (const list of lists) {
    if (!list.ok) continue;
    for (const key of list.data.items) labels.set(key.id, { name: key.name, prefix: key.prefix });
  }
  return labels;
}

function KeyCell({ keyId, labels }: { keyId: string; labels: Map<string, KeyLabel> }) {
  const label = labels.get(keyId);
  if (!label) return <code className="small">{shortId(keyId)}</code>;
  return (
    <>
      {label.name}
      {label.prefix && (
        <>
          {' '}
          <code className="small muted">{label.prefix}…</code>
        </>
      )}
    </>
  );
}

export default async function UsagePage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { org } = await getCurrentContext();
  if (!org) return <NoOrganisation />;
  if (!canReadSpend(org.role)) {
    return (
      <div className="panel" data-testid="usage-forbidden">
        <h1>Usage &amp; spend</h1>
        <p className="muted">
          Your role ({org.role}) cannot read the organisation&apos;s usage and spend.
        </p>
      </div>
    );
  }
  const sp = await searchParams;
  const current = utcMonth(new Date());
  const requested = one(sp.month);
  const month = isMonth(requested) ? requested : current;
  const cursor = one(sp.cursor);
  const orgId = org.organisationId;

  const [report, usage, tenants] = await Promise.all([
    load(() => authed((t) => backend.monthlyReport(t, orgId, month))),
    load(() => authed((t) => backend.listUsage(t, orgId, { limit: USAGE_PAGE_SIZE, cursor }))),
    load(() => authed((t) => backend.listTenants(t, orgId, { limit: 200 }))),
  ]);
  const tenantNames = new Map((tenants.ok ? tenants.data.items : []).map((x) => [x.id, x.name]));
  const involvedTenants = [
    ...new Set([
      ...(usage.ok ? usage.data.items.map((u) => u.tenantId) : []),
      ...(report.ok ? report.data.lines.map((l) => l.tenantId) : []),
    ]),
  ];
  const keys = await keyLabels(involvedTenants, report.ok ? report.data : null);
  const monthQs = month === current ? '' : `month=${month}`;

  return (
    <>
      <div className="page-head">
        <h1>Usage &amp; spend</h1>
        <p className="sub">{org.organisationName} · amounts in US dollars, months in UTC</p>
      </div>

      <section className="panel" aria-labelledby="spend-title">
        <div className="row">
          <h2 id="spend-title" data-testid="report-month">
            Spend in {monthLabel(month)}
          </h2>
          <span className="spacer" />
          <Link href={`/usage?month=${shiftMonth(month, -1)}`} data-testid="month-prev">
            ← {monthLabel(shiftMonth(month, -1))}
          </Link>
          {month < current && (
            <Link href={`/usage?month=${shiftMonth(month, 1)}`} data-testid="month-next">
              {monthLabel(shiftMonth(month, 1))} →
            </Link>
          )}
          <a
            className="button secondary"
            href={`/usage/export?month=${month}`}
            download
            data-testid="csv-link"
          >
            Download CSV
          </a>
        </div>
        {!report.ok ? (
          <ProblemAlert problem={report.problem} />
        ) : (
          <>
            <p className="stat" data-testid="month-total" data-amount={report.data.totalCostUsd}>
              {formatUsd(report.data.totalCostUsd)}
            </p>
            {report.data.lines.length === 0 ? (
              <p className="empty" data-testid="report-empty">
                No spend recorded in {monthLabel(month)}.
              </p>
            ) : (
              <div className="table-wrap">
                <table data-testid="report-table">
                  <caption className="sr-only">Spend by tenant, key and model</caption>
                  <thead>
                    <tr>
                      <th scope="col">Tenant</th>
                      <th scope="col">Key</th>
                      <th scope="col">Model</th>
                      <th scope="col" className="num">
                        Requests
                      </th>
                      <th scope="col" className="num">
                        Input tokens
                      </th>
                      <th scope="col" className="num">
                        Output tokens
                      </th>
                      <th scope="col" className="num">
                        Cost
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {report.data.lines.map((line) => (
                      <tr
                        key={`${line.tenantId}/${line.keyId}/${line.model}`}
                        data-testid="report-line"
                      >
                        <td>
                          {tenantNames.get(line.tenantId) ??
                            line.tenantName ??
                            shortId(line.tenantId)}
                        </td>
                        <td>
                          <KeyCell keyId={line.keyId} labels={keys} />
                        </td>
                        <td>
                          <code>{line.model}</code>
                        </td>
                        <td className="num">
                          {formatCount(line.requests)}
                          {line.unpricedRequests > 0 && (
                            <span
                              className="small muted"
                              title="requests without a price, counted at $0"
                            >
                              {' '}
                              ({formatCount(line.unpricedRequests)} unpriced)
                            </span>
                          )}
                        </td>
                        <td className="num">{formatCount(line.inputTokens)}</td>
                        <td className="num">{formatCount(line.outputTokens)}</td>
                        <td className="num">{formatUsd(line.costUsd)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </>
        )}
      </section>

      <section className="panel" aria-labelledby="usage-title">
        <h2 id="usage-title">Recent requests</h2>
        {!usage.ok ? (
          <ProblemAlert problem={usage.problem} />
        ) : usage.data.items.length === 0 ? (
          <p className="empty" data-testid="usage-empty">
            No requests yet. Calls made through the proxy with one of your keys appear here within
            seconds.
          </p>
        ) : (
          <div className="table-wrap">
            <table data-testid="usage-table">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Request</th>
                  <th scope="col">Tenant</th>
                  <th scope="col">Key</th>
                  <th scope="col">Model</th>
                  <th scope="col">Endpoint</th>
                  <th scope="col">Outcome</th>
                  <th scope="col" className="num">
                    In
                  </th>
                  <th scope="col" className="num">
                    Out
                  </th>
                  <th scope="col" className="num">
                    Cost
                  </th>
                </tr>
              </thead>
              <tbody>
                {usage.data.items.map((u) => (
                  <tr key={u.requestId} data-testid="usage-row" data-request-id={u.requestId}>
                    <td className="small">{formatDateTime(u.occurredAt)}</td>
                    <td>
                      <code className="small" title={u.requestId}>
                        {u.requestId}
                      </code>
                    </td>
                    <td>{tenantNames.get(u.tenantId) ?? shortId(u.tenantId)}</td>
                    <td>
                      <KeyCell keyId={u.keyId} labels={keys} />
                    </td>
                    <td>
                      <code>{u.model}</code>
                    </td>
                    <td className="small">
                      {u.endpoint}
                      {u.stream ? ' (stream)' : ''}
                    </td>
                    <td>
                      <span
                        className={`badge ${u.outcome === 'ok' ? 'badge-active' : 'badge-revoked'}`}
                      >
                        {u.outcome} {u.httpStatus}
                      </span>
                    </td>
                    <td className="num">{formatCount(u.inputTokens)}</td>
                    <td className="num">{formatCount(u.outputTokens)}</td>
                    <td className="num" data-testid="usage-cost">
                      {u.priced === false ? (
                        <span
                          className="badge badge-expired"
                          title="The price book had no price for this model"
                        >
                          unpriced
                        </span>
                      ) : (
                        formatUsd(u.costUsd)
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {usage.ok && (cursor || usage.data.nextCursor) && (
          <div className="pager">
            {cursor && <Link href={monthQs ? `/usage?${monthQs}` : '/usage'}>Newest</Link>}
            {usage.data.nextCursor && (
              <Link
                href={`/usage?${monthQs ? `${monthQs}&` : ''}cursor=${encodeURIComponent(usage.data.nextCursor)}`}
                data-testid="usage-older"
              >
                Older requests
              </Link>
            )}
          </div>
        )}
      </section>
    </>
  );
}
