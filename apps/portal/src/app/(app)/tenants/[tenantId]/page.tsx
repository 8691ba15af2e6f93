import Link from 'next/link';
import { notFound } from 'next/navigation';
import type { Metadata } from 'next';
import { CreateKeyForm } from '../../../../components/key-form';
import { ProblemAlert } from '../../../../components/problem-alert';
import { RevokeKeyButton } from '../../../../components/revoke-key';
import { backend } from '../../../../lib/backend';
import { formatDate, keyStatus } from '../../../../lib/format';
import { load, one } from '../../../../lib/load';
import { authed } from '../../../../lib/server-session';

export const metadata: Metadata = { title: 'Tenant' };

const PAGE_SIZE = 100;

export default async function TenantPage({
  params,
  searchParams,
}: {
  params: Promise<{ tenantId: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { tenantId } = await params;
  const cursor = one((await searchParams).cursor);
  const [tenant, keys] = await Promise.all([
    load(() => authed((t) => backend.getTenant(t, tenantId))),
    load(() => authed((t) => backend.listKeys(t, tenantId, { limit: PAGE_SIZE, cursor }))),
  ]);
  if (!tenant.ok && (tenant.problem.status === 404 || tenant.problem.status === 400)) notFound();
  if (!tenant.ok) {
    return (
      <div className="panel">
        <h1>Tenant</h1>
        <ProblemAlert problem={tenant.problem} testId="page-problem" />
      </div>
    );
  }
  const now = new Date();
  const self = `/tenants/${encodeURIComponent(tenantId)}`;

  return (
    <>
      <div className="page-head">
        <div className="breadcrumb">
          <Link href="/">Dashboard</Link> / Tenants
        </div>
        <h1 data-testid="tenant-title">{tenant.data.name}</h1>
        <p className="sub">
          Group <code data-testid="tenant-group-value">{tenant.data.group}</code> · created{' '}
          {formatDate(tenant.data.createdAt)} · id <code>{tenant.data.id}</code> ·{' '}
          <Link href={`${self}/limits`} data-testid="tenant-limits-link">
            Budgets &amp; limits
          </Link>
        </p>
      </div>
      <section className="panel" aria-labelledby="keys-title">
        <h2 id="keys-title">API keys</h2>
        <p className="small muted">
          Only the first characters of each key are kept for recognition; the full key was shown
          once, when it was created.
        </p>
        {!keys.ok ? (
          <ProblemAlert problem={keys.problem} />
        ) : keys.data.items.length === 0 ? (
          <p className="empty" data-testid="keys-empty">
            No keys yet.
          </p>
        ) : (
          <div className="table-wrap">
            <table data-testid="keys-table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Key</th>
                  <th scope="col">Models</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Created</th>
                  <th scope="col">Status</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {keys.data.items.map((key) => {
                  const status = keyStatus(key, now);
                  return (
                    <tr
                      key={key.id}
                      data-testid="key-row"
                      data-key-id={key.id}
                      data-key-status={status}
                    >
                      <td data-testid="key-name-cell">{key.name}</td>
                      <td>
                        <code data-testid="key-prefix">{key.prefix}…</code>
                      </td>
                      <td className="small">
                        {key.models && key.models.length ? key.models.join(', ') : 'all'}
                      </td>
                      <td>{key.expiresAt ? formatDate(key.expiresAt) : 'never'}</td>
                      <td>{formatDate(key.createdAt)}</td>
                      <td>
                        <span className={`badge badge-${status}`} data-testid="key-status">
                          {status}
                        </span>
                      </td>
                      <td>
                        <Link
                          href={`${self}/keys/${encodeURIComponent(key.id)}/limits`}
                          data-testid="key-limits-link"
                        >
                          Limits
                        </Link>{' '}
                        {status !== 'revoked' && (
                          <RevokeKeyButton
                            tenantId={tenantId}
                            keyId={key.id}
                            keyName={key.name}
                            prefix={key.prefix}
                          />
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
        {keys.ok && (cursor || keys.data.nextCursor) && (
          <div className="pager">
            {cursor && <Link href={self}>First page</Link>}
            {keys.data.nextCursor && (
              <Link href={`${self}?cursor=${encodeURIComponent(keys.data.nextCursor)}`}>
                Next page
              </Link>
            )}
          </div>
        )}
      </section>
      <section className="panel">
        <CreateKeyForm tenantId={tenantId} />
      </section>
    </>
  );
}
