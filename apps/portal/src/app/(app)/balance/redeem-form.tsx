'use client';

import { useActionState } from 'react';
import { Notice, ProblemAlert } from '../../../components/problem-alert';
import { SubmitButton } from '../../../components/submit-button';
import { idle } from '../../../lib/forms';
import { redeemCodeAction } from './actions';

export function RedeemForm({ orgId }: { orgId: string }) {
  const [state, action] = useActionState(redeemCodeAction.bind(null, orgId), idle({ code: '' }));
  return (
    <form action={action} className="stack" data-testid="redeem-form" noValidate>
      <h2>Redeem a code</h2>
      {state.status === 'error' && <ProblemAlert problem={state.problem} testId="redeem-error" />}
      {state.status === 'done' && <Notice testId="redeem-success">{state.message}</Notice>}
      <div className="field">
        <label htmlFor="redeem-code">Redemption code</label>
        <input
          id="redeem-code"
          name="code"
          type="text"
          autoComplete="off"
          spellCheck={false}
          required
          maxLength={100}
          defaultValue={state.values.code}
          aria-describedby="redeem-code-hint"
          data-testid="redeem-code"
        />
        <span id="redeem-code-hint" className="hint">
          Each code can be redeemed once; its amount is added to the prepaid balance.
        </span>
      </div>
      <SubmitButton pendingLabel="Redeeming…" testId="redeem-submit">
        Redeem
      </SubmitButton>
    </form>
  );
}
