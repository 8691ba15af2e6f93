'use client';

import { useActionState } from 'react';
import { Notice, ProblemAlert } from '../../../components/problem-alert';
import { SubmitButton } from '../../../components/submit-button';
import { idle, type FormValues } from '../../../lib/forms';
import { updateOrgSettingsAction } from './actions';

/** Billing time zone (which the day and month budget windows follow) and admission fail-open. */
export function OrgSettingsForm({
  orgId,
  initial,
  timeZones,
}: {
  orgId: string;
  initial: FormValues;
  timeZones: string[];
}) {
  const [state, action] = useActionState(updateOrgSettingsAction.bind(null, orgId), idle(initial));
  return (
    <form action={action} className="stack" data-testid="org-settings-form" noValidate>
      <h2>Time zone and outages</h2>
      {state.status === 'error' && (
        <ProblemAlert problem={state.problem} testId="org-settings-error" />
      )}
      {state.status === 'done' && <Notice testId="org-settings-success">{state.message}</Notice>}
      <div className="field">
        <label htmlFor="billing-time-zone">Billing time zone</label>
        <input
          id="billing-time-zone"
          name="billingTimeZone"
          type="text"
          list="time-zone-choices"
          autoComplete="off"
          required
          defaultValue={state.values.billingTimeZone}
          aria-describedby="billing-time-zone-hint"
          data-testid="billing-time-zone"
        />
        <datalist id="time-zone-choices">
          {timeZones.map((z) => (
            <option key={z} value={z} />
          ))}
        </datalist>
        <span id="billing-time-zone-hint" className="hint">
          An IANA name such as <code>Europe/Berlin</code>. Daily and monthly budgets start again at
          midnight of this zone.
        </span>
      </div>
      <div className="field">
        <label className="row" style={{ flexWrap: 'nowrap', alignItems: 'flex-start' }}>
          <input
            type="checkbox"
            name="admissionFailOpen"
            defaultChecked={state.values.admissionFailOpen === 'on'}
            data-testid="admission-fail-open"
          />
          <span>Keep serving when limits cannot be checked</span>
        </label>
        <span className="hint">
          If the gateway&apos;s limit store is unreachable, requests of budgeted keys are refused
          with 503 by default. Checked, they are served without budget or rate checks until it is
          back, so spend in that time is not capped.
        </span>
      </div>
      <SubmitButton pendingLabel="Saving…" testId="org-settings-submit">
        Save settings
      </SubmitButton>
    </form>
  );
}
