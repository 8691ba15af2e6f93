import Link from 'next/link';
import type { Metadata } from 'next';
import { ProblemAlert } from '../../components/problem-alert';
import { CreateTenantForm } from '../../components/tenant-form';
import { backend } from '../../lib/backend';
import { formatDate } from '../../lib/format';
import { load, one } from '../../lib/load';
import { canManage } from '../../lib/org';
import { authed, getCurrentContext } from '../../lib/server-session';
import { NoOrganisation } from './no-organisation';

export const metadata: Metadata = { title: 'Dashboard' };

const PAGE_SIZE = 50;

export default async function DashboardPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { org } = await getCurrentContext();
  if (!org) return <NoOrganisation />;
  const cursor = one((await searchParams).cursor);
  const tenants = await load(() =>
    authed((t) => backend.listTenants(t, org.organisationId, { limit: PAGE_SIZE, cursor })),
  );

  return (
    <>
      <div className="page-head">
        <h1 data-testid="organisation-name">{org.organisationName}</h1>
        <p className="sub">
          Your role: <span className="badge badge-neutral">{org.role}</span>
        </p>
      </div>
      <div className="grid-2">
        <section className="panel" aria-labelledby="tenants-title">
          <h2 id="tenants-title">Tenants</h2>
          {!tenants.ok ? (
            <ProblemAlert problem={tenants.problem} />
          ) : tenants.data.items.length === 0 ? (
            <p className="empty" data-testid="tenants-empty">
              No tenants yet. A tenant holds API keys and is billed separately; create the first
              one.
            </p>
          ) : (
            <div className="table-wrap">
              <table data-testid="tenants-table">
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Group</th>
                    <th scope="col">Created</th>
                  </tr>
                </thead>
                <tbody>
                  {tenants.data.items.map((tenant) => (
                    <tr key={tenant.id} data-testid="tenant-row" data-tenant-id={tenant.id}>
                      <td>
                        <Link
                          href={`/tenants/${encodeURIComponent(tenant.id)}`}
                          data-testid="tenant-link"
                        >
                          {tenant.name}
                        </Link>
                      </td>
                      <td>
                        <code>{tenant.group}</code>
                      </td>
                      <td>{formatDate(tenant.createdAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {tenants.ok && (cursor || tenants.data.nextCursor) && (
            <div className="pager">
              {cursor && <Link href="/">First page</Link>}
              {tenants.data.nextCursor && (
                <Link href={`/?cursor=${encodeURIComponent(tenants.data.nextCursor)}`}>
                  Next page
                </Link>
              )}
            </div>
          )}
        </section>
        <section className="panel">
          {canManage(org.role) ? (
            <CreateTenantForm orgId={org.organisationId} />
          ) : (
            <p className="muted">Only owners and admins can create tenants.</p>
          )}
        </section>
      </div>
    </>
  );
}
