import Link from 'next/link';
import type { Metadata } from 'next';
import { ProblemAlert } from '../../../components/problem-alert';
import { backend } from '../../../lib/backend';
import { budgetBackend } from '../../../lib/budget-backend';
import { load } from '../../../lib/load';
import { limitsToValues, timeZoneChoices } from '../../../lib/limits';
import { canManage, canReadSpend } from '../../../lib/org';
import { authed, getCurrentContext } from '../../../lib/server-session';
import { NoOrganisation } from '../no-organisation';
import { LimitsForm } from './limits-form';
import { LimitsState } from './limits-state';
import { OrgSettingsForm } from './org-settings-form';

export const metadata: Metadata = { title: 'Budgets & limits' };

/** Tenants listed with a link to their own limits. */
const TENANT_LIST_SIZE = 100;

export default async function BudgetsPage() {
  const { org } = await getCurrentContext();
  if (!org) return <NoOrganisation />;
  const orgId = org.organisationId;
  const manager = canManage(org.role);
  const [limits, organisation, tenants] = await Promise.all([
    load(() => authed((t) => budgetBackend.getLimits(t, 'org', orgId))),
    load(() => authed((t) => budgetBackend.getOrganisation(t, orgId))),
    load(() => authed((t) => backend.listTenants(t, orgId, { limit: TENANT_LIST_SIZE }))),
  ]);

  return (
    <>
      <div className="page-head">
        <h1>Budgets &amp; limits</h1>
        <p className="sub">
          {org.organisationName} · limits here cap the whole organisation; tenants and keys can have
          tighter ones of their own. A request must fit every limit on its key, tenant and
          organisation.
        </p>
      </div>
      <div className="grid-2">
        <section className="panel" aria-labelledby="org-limits-title">
          <h2 id="org-limits-title">Organisation limits</h2>
          {!limits.ok ? (
            <ProblemAlert problem={limits.problem} testId="limits-problem" />
          ) : (
            <>
              <p className="small muted">
                Windows follow the billing time zone <code>{limits.data.timeZone}</code>.
              </p>
              <LimitsState state={limits.data} showUsage={canReadSpend(org.role)} />
            </>
          )}
        </section>
        <section className="panel">
          {!manager ? (
            <p className="muted">Only owners and admins can change limits.</p>
          ) : limits.ok ? (
            <LimitsForm scope="org" id={orgId} initial={limitsToValues(limits.data)} />
          ) : (
            <p className="muted">The form appears once the current limits can be read.</p>
          )}
        </section>
      </div>
      <div className="grid-2">
        <section className="panel" aria-labelledby="tenant-limits-title">
          <h2 id="tenant-limits-title">Tenant and key limits</h2>
          {!tenants.ok ? (
            <ProblemAlert problem={tenants.problem} />
          ) : tenants.data.items.length === 0 ? (
            <p className="empty">No tenants yet.</p>
          ) : (
            <>
              <p className="small muted">
                Each tenant&apos;s limits, and its keys&apos; (from the tenant&apos;s page), are set
                separately.
              </p>
              <ul data-testid="tenant-limit-links">
                {tenants.data.items.map((t) => (
                  <li key={t.id}>
                    <Link href={`/tenants/${encodeURIComponent(t.id)}/limits`}>{t.name}</Link>
                  </li>
                ))}
              </ul>
              {tenants.data.nextCursor && (
                <p className="small muted">
                  The first {TENANT_LIST_SIZE} tenants are listed; open any other from the{' '}
                  <Link href="/">dashboard</Link>.
                </p>
              )}
            </>
          )}
        </section>
        <section className="panel">
          {!organisation.ok ? (
            <ProblemAlert problem={organisation.problem} />
          ) : manager ? (
            <OrgSettingsForm
              orgId={orgId}
              initial={{
                billingTimeZone: organisation.data.billingTimeZone,
                admissionFailOpen: organisation.data.admissionFailOpen ? 'on' : '',
              }}
              timeZones={timeZoneChoices()}
            />
          ) : (
            <>
              <h2>Time zone and outages</h2>
              <p>
                Billing time zone <code>{organisation.data.billingTimeZone}</code>. When limits
                cannot be checked, requests are{' '}
                {organisation.data.admissionFailOpen ? 'served without checks' : 'refused (503)'}.
              </p>
            </>
          )}
        </section>
      </div>
    </>
  );
}
