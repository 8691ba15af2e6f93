import Link from 'next/link';
import { notFound } from 'next/navigation';
import type { Metadata } from 'next';
import type { ApiKeyResponseDto } from '@tollgate/contracts';
import { ProblemAlert } from '../../../../../../../components/problem-alert';
import { backend } from '../../../../../../../lib/backend';
import { budgetBackend } from '../../../../../../../lib/budget-backend';
import { load } from '../../../../../../../lib/load';
import { authed, getCurrentContext } from '../../../../../../../lib/server-session';
import { ModelLimits } from '../../../../../budgets/model-limits';
import { ScopeLimits } from '../../../../../budgets/scope-limits';
import { NoOrganisation } from '../../../../../no-organisation';

export const metadata: Metadata = { title: 'Key limits' };

/** Pages of the tenant's key list searched for the key's name (accounts has no single-key read). */
const KEY_PAGES = 5;

async function findKey(tenantId: string, keyId: string): Promise<ApiKeyResponseDto | null> {
  let cursor: string | undefined;
  for (let i = 0; i < KEY_PAGES; i++) {
    const page = await authed((t) => backend.listKeys(t, tenantId, { limit: 200, cursor }));
    const key = page.items.find((k) => k.id === keyId);
    if (key) return key;
    if (!page.nextCursor) return null;
    cursor = page.nextCursor;
  }
  return null;
}

export default async function KeyLimitsPage({
  params,
}: {
  params: Promise<{ tenantId: string; keyId: string }>;
}) {
  const { tenantId, keyId } = await params;
  const { me } = await getCurrentContext();
  const [tenant, key, limits, models] = await Promise.all([
    load(() => authed((t) => backend.getTenant(t, tenantId))),
    load(() => findKey(tenantId, keyId)),
    load(() => authed((t) => budgetBackend.getLimits(t, 'key', keyId))),
    load(() => authed((t) => budgetBackend.listModelLimits(t, 'key', keyId))),
  ]);
  const missing = (s: number) => s === 404 || s === 400;
  if (!tenant.ok && missing(tenant.problem.status)) notFound();
  if (!limits.ok && missing(limits.problem.status)) notFound();
  // a key of another tenant is not shown under this one
  if (key.ok && key.data === null) notFound();
  if (!tenant.ok) {
    return (
      <div className="panel">
        <h1>Key limits</h1>
        <ProblemAlert problem={tenant.problem} testId="page-problem" />
      </div>
    );
  }
  const membership = me.memberships.find((m) => m.organisationId === tenant.data.organisationId);
  if (!membership) return <NoOrganisation />;
  const tenantPath = `/tenants/${encodeURIComponent(tenantId)}`;
  const label = key.ok && key.data ? key.data.name : keyId;
  return (
    <>
      <div className="page-head">
        <div className="breadcrumb">
          <Link href="/">Dashboard</Link> / <Link href={tenantPath}>{tenant.data.name}</Link> / Key
          limits
        </div>
        <h1 data-testid="limits-title">Limits of key {label}</h1>
        <p className="sub">
          {key.ok && key.data && (
            <>
              <code>{key.data.prefix}…</code> ·{' '}
            </>
          )}
          The limits of tenant <Link href={`${tenantPath}/limits`}>{tenant.data.name}</Link> and of
          the organisation apply too.
        </p>
      </div>
      <ScopeLimits scope="key" id={keyId} role={membership.role} limits={limits} />
      <ModelLimits scope="key" id={keyId} role={membership.role} models={models} />
    </>
  );
}
