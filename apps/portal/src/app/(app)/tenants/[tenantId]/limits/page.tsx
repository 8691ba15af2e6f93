import Link from 'next/link';
import { notFound } from 'next/navigation';
import type { Metadata } from 'next';
import { ProblemAlert } from '../../../../../components/problem-alert';
import { backend } from '../../../../../lib/backend';
import { budgetBackend } from '../../../../../lib/budget-backend';
import { load } from '../../../../../lib/load';
import { authed, getCurrentContext } from '../../../../../lib/server-session';
import { ModelLimits } from '../../../budgets/model-limits';
import { ScopeLimits } from '../../../budgets/scope-limits';
import { NoOrganisation } from '../../../no-organisation';

export const metadata: Metadata = { title: 'Tenant limits' };

export default async function TenantLimitsPage({
  params,
}: {
  params: Promise<{ tenantId: string }>;
}) {
  const { tenantId } = await params;
  const { me } = await getCurrentContext();
  const [tenant, limits, models] = await Promise.all([
    load(() => authed((t) => backend.getTenant(t, tenantId))),
    load(() => authed((t) => budgetBackend.getLimits(t, 'tenant', tenantId))),
    load(() => authed((t) => budgetBackend.listModelLimits(t, 'tenant', tenantId))),
  ]);
  if (!tenant.ok && (tenant.problem.status === 404 || tenant.problem.status === 400)) notFound();
  if (!tenant.ok) {
    return (
      <div className="panel">
        <h1>Tenant limits</h1>
        <ProblemAlert problem={tenant.problem} testId="page-problem" />
      </div>
    );
  }
  // the role in the tenant's own organisation, whichever one the top bar shows
  const membership = me.memberships.find((m) => m.organisationId === tenant.data.organisationId);
  if (!membership) return <NoOrganisation />;
  const tenantPath = `/tenants/${encodeURIComponent(tenantId)}`;
  return (
    <>
      <div className="page-head">
        <div className="breadcrumb">
          <Link href="/">Dashboard</Link> / <Link href={tenantPath}>{tenant.data.name}</Link> /
          Limits
        </div>
        <h1 data-testid="limits-title">Limits of tenant {tenant.data.name}</h1>
        <p className="sub">
          Budgets and rate limits shared by all of this tenant&apos;s keys. Each key can also have
          its own: see <Link href={tenantPath}>its keys</Link>.
        </p>
      </div>
      <ScopeLimits scope="tenant" id={tenantId} role={membership.role} limits={limits} />
      <ModelLimits scope="tenant" id={tenantId} role={membership.role} models={models} />
    </>
  );
}
