import Link from 'next/link';
import type { Metadata } from 'next';
import type { BudgetAlertScope } from '@tollgate/contracts';
import { ProblemAlert } from '../../../components/problem-alert';
import { deliveryLabel, scopeLabel, windowLabel } from '../../../lib/alerts';
import { backend } from '../../../lib/backend';
import { budgetBackend } from '../../../lib/budget-backend';
import { formatDateTime, formatUsd, shortId } from '../../../lib/format';
import { load, one } from '../../../lib/load';
import { canManage, canReadSpend } from '../../../lib/org';
import { authed, getCurrentContext } from '../../../lib/server-session';
import { NoOrganisation } from '../no-organisation';
import { AlertSettingsForm, RotateSecret } from './alert-settings-form';

export const metadata: Metadata = { title: 'Budget alerts' };

const PAGE_SIZE = 50;

export default async function AlertsPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { org } = await getCurrentContext();
  if (!org) return <NoOrganisation />;
  if (!canReadSpend(org.role)) {
    return (
      <div className="panel" data-testid="alerts-forbidden">
        <h1>Budget alerts</h1>
        <p className="muted">Your role ({org.role}) cannot read the organisation&apos;s alerts.</p>
      </div>
    );
  }
  const orgId = org.organisationId;
  const cursor = one((await searchParams).cursor);
  const [settings, alerts, tenants] = await Promise.all([
    load(() => authed((t) => budgetBackend.getAlertSettings(t, orgId))),
    load(() => authed((t) => budgetBackend.listAlerts(t, orgId, { limit: PAGE_SIZE, cursor }))),
    load(() => authed((t) => backend.listTenants(t, orgId, { limit: 200 }))),
  ]);
  const tenantNames = new Map((tenants.ok ? tenants.data.items : []).map((x) => [x.id, x.name]));
  const scopeName = (scope: BudgetAlertScope, id: string, model: string | null): string => {
    const owner =
      scope === 'org'
        ? org.organisationName
        : scope === 'tenant' || scope === 'tenant-model'
          ? (tenantNames.get(id) ?? shortId(id))
          : shortId(id);
    return model === null ? owner : `${owner} · ${model}`;
  };

  return (
    <>
      <div className="page-head">
        <h1>Budget alerts</h1>
        <p className="sub">
          {org.organisationName} · an alert is raised once per window when spend reaches a threshold
          of a budget set on the organisation, a tenant, a key, or one model of a tenant or key.
        </p>
      </div>
      <div className="grid-2">
        <section className="panel" aria-labelledby="alerts-settings-title">
          <h2 id="alerts-settings-title">Where alerts go</h2>
          {!settings.ok ? (
            <ProblemAlert problem={settings.problem} testId="alert-settings-problem" />
          ) : (
            <dl data-testid="alert-settings-current">
              <dt>Webhook</dt>
              <dd data-testid="alert-current-url">
                {settings.data.webhookUrl ? (
                  <code>{settings.data.webhookUrl}</code>
                ) : (
                  'none: alerts are only listed below'
                )}
              </dd>
              <dt>Thresholds</dt>
              <dd data-testid="alert-current-thresholds">
                {settings.data.thresholdsPercent.map((p) => `${p}%`).join(', ')}
                {!settings.data.configured && ' (defaults)'}
              </dd>
              <dt>Signing secret</dt>
              <dd>
                {settings.data.configured
                  ? 'set (shown only when created or rotated)'
                  : 'created with the first save'}
              </dd>
              {settings.data.updatedAt && (
                <>
                  <dt>Changed</dt>
                  <dd>{formatDateTime(settings.data.updatedAt)}</dd>
                </>
              )}
            </dl>
          )}
          {settings.ok && settings.data.configured && canManage(org.role) && (
            <RotateSecret orgId={orgId} />
          )}
        </section>
        <section className="panel">
          {!canManage(org.role) ? (
            <p className="muted">Only owners and admins can change alert settings.</p>
          ) : settings.ok ? (
            <AlertSettingsForm
              orgId={orgId}
              initial={{
                webhookUrl: settings.data.webhookUrl ?? '',
                thresholdsPercent: settings.data.thresholdsPercent.join(', '),
              }}
            />
          ) : (
            <p className="muted">The form appears once the current settings can be read.</p>
          )}
        </section>
      </div>

      <section className="panel" aria-labelledby="alerts-history-title">
        <h2 id="alerts-history-title">Alert history</h2>
        {!alerts.ok ? (
          <ProblemAlert problem={alerts.problem} />
        ) : alerts.data.items.length === 0 ? (
          <p className="empty" data-testid="alerts-empty">
            No alerts yet. Set budgets on the <Link href="/budgets">budgets page</Link>; reaching a
            threshold shows up here.
          </p>
        ) : (
          <div className="table-wrap">
            <table data-testid="alerts-table">
              <thead>
                <tr>
                  <th scope="col">Raised</th>
                  <th scope="col">Scope</th>
                  <th scope="col">Window</th>
                  <th scope="col" className="num">
                    Threshold
                  </th>
                  <th scope="col" className="num">
                    Spent
                  </th>
                  <th scope="col" className="num">
                    Budget
                  </th>
                  <th scope="col">Webhook</th>
                </tr>
              </thead>
              <tbody>
                {alerts.data.items.map((a) => (
                  <tr key={a.id} data-testid="alert-row" data-alert-id={a.id}>
                    <td className="small">{formatDateTime(a.createdAt)}</td>
                    <td>
                      {scopeLabel(a.scope)} {scopeName(a.scope, a.scopeId, a.model)}
                    </td>
                    <td className="small">{windowLabel(a.window, a.windowId)}</td>
                    <td className="num">{a.thresholdPercent}%</td>
                    <td className="num">{formatUsd(a.spentUsd)}</td>
                    <td className="num">{formatUsd(a.budgetUsd)}</td>
                    <td className="small">
                      {deliveryLabel(a.delivery)}
                      {a.deliveryAttempts > 0 && ` (${a.deliveryAttempts} attempts)`}
                      {a.lastError && (
                        <span className="muted" title={a.lastError}>
                          {' '}
                          · {a.lastError.slice(0, 80)}
                        </span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {alerts.ok && (cursor || alerts.data.nextCursor) && (
          <div className="pager">
            {cursor && <Link href="/alerts">Newest</Link>}
            {alerts.data.nextCursor && (
              <Link href={`/alerts?cursor=${encodeURIComponent(alerts.data.nextCursor)}`}>
                Older alerts
              </Link>
            )}
          </div>
        )}
      </section>
    </>
  );
}
