import type { LimitScope, LimitsStateResponseDto } from '@tollgate/contracts';
import { ProblemAlert } from '../../../components/problem-alert';
import type { Loaded } from '../../../lib/load';
import { limitsToValues } from '../../../lib/limits';
import { canManage, canReadSpend } from '../../../lib/org';
import { LimitsForm } from './limits-form';
import { LimitsState } from './limits-state';

/** The limits panels of a tenant or key page: current state, and the form for owners and admins. */
export function ScopeLimits({
  scope,
  id,
  role,
  limits,
}: {
  scope: LimitScope;
  id: string;
  role: string;
  limits: Loaded<LimitsStateResponseDto>;
}) {
  return (
    <div className="grid-2">
      <section className="panel" aria-labelledby="scope-limits-title">
        <h2 id="scope-limits-title">Current limits</h2>
        {!limits.ok ? (
          <ProblemAlert problem={limits.problem} testId="limits-problem" />
        ) : (
          <>
            <p className="small muted">
              Windows follow the organisation&apos;s billing time zone{' '}
              <code>{limits.data.timeZone}</code>. The organisation&apos;s own limits apply too.
            </p>
            <LimitsState state={limits.data} showUsage={canReadSpend(role)} />
          </>
        )}
      </section>
      <section className="panel">
        {!canManage(role) ? (
          <p className="muted">Only owners and admins can change limits.</p>
        ) : limits.ok ? (
          <LimitsForm scope={scope} id={id} initial={limitsToValues(limits.data)} />
        ) : (
          <p className="muted">The form appears once the current limits can be read.</p>
        )}
      </section>
    </div>
  );
}
