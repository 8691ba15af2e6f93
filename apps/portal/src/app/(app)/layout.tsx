import Link from 'next/link';
import type { ReactNode } from 'react';
import { NavLinks } from '../../components/nav-links';
import { SubmitButton } from '../../components/submit-button';
import { ProblemAlert } from '../../components/problem-alert';
import { load } from '../../lib/load';
import { getCurrentContext } from '../../lib/server-session';
import { logoutAction, selectOrganisationAction } from './actions';

/** Every signed-in page: the top bar with navigation, organisation, user and logout. */
export default async function AppLayout({ children }: { children: ReactNode }) {
  const ctx = await load(() => getCurrentContext());
  if (!ctx.ok) {
    // accounts is down or answered nonsense: say so instead of failing the whole page
    return (
      <>
        <header className="topbar">
          <div className="topbar-inner">
            <span className="brand">Tollgate</span>
          </div>
        </header>
        <main id="content">
          <ProblemAlert problem={ctx.problem} testId="page-problem" />
        </main>
      </>
    );
  }
  const { me, org } = ctx.data;
  return (
    <>
      <a className="skip-link" href="#content">
        Skip to content
      </a>
      <header className="topbar">
        <div className="topbar-inner">
          <Link href="/" className="brand">
            Tollgate
          </Link>
          <NavLinks />
          <div className="account">
            {me.memberships.length > 1 && org ? (
              <form action={selectOrganisationAction}>
                <label htmlFor="org-select" className="small">
                  Organisation
                </label>
                <select
                  id="org-select"
                  name="organisationId"
                  defaultValue={org.organisationId}
                  data-testid="org-select"
                >
                  {me.memberships.map((m) => (
                    <option key={m.organisationId} value={m.organisationId}>
                      {m.organisationName}
                    </option>
                  ))}
                </select>
                <SubmitButton className="secondary" pendingLabel="Switching…">
                  Switch
                </SubmitButton>
              </form>
            ) : (
              org && <span data-testid="org-name">{org.organisationName}</span>
            )}
            <span data-testid="user-email">{me.email}</span>
            <form action={logoutAction}>
              <SubmitButton className="secondary" pendingLabel="Logging out…" testId="logout">
                Log out
              </SubmitButton>
            </form>
          </div>
        </div>
      </header>
      <main id="content">{children}</main>
    </>
  );
}
