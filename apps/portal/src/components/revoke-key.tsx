'use client';

import { useActionState, useState } from 'react';
import { revokeKeyAction } from '../app/(app)/actions';
import { idle } from '../lib/forms';
import { ProblemAlert } from './problem-alert';
import { SubmitButton } from './submit-button';

/** Revoking is final, so it takes two clicks: ask, then confirm. */
export function RevokeKeyButton({
  tenantId,
  keyId,
  keyName,
  prefix,
}: {
  tenantId: string;
  keyId: string;
  keyName: string;
  prefix: string;
}) {
  const [state, action] = useActionState(revokeKeyAction.bind(null, tenantId, keyId), idle());
  const [asking, setAsking] = useState(false);

  if (!asking) {
    return (
      <>
        {state.status === 'error' && <ProblemAlert problem={state.problem} testId="revoke-error" />}
        <button
          type="button"
          className="secondary"
          onClick={() => setAsking(true)}
          data-testid="revoke-key"
        >
          Revoke
        </button>
      </>
    );
  }
  return (
    <form action={action} className="confirm" data-testid="revoke-confirm">
      {state.status === 'error' && <ProblemAlert problem={state.problem} testId="revoke-error" />}
      <span>
        Revoke <strong>{keyName}</strong> (<code>{prefix}…</code>)? Calls made with it are refused
        from now on. This cannot be undone.
      </span>
      <div className="row">
        <SubmitButton className="danger" pendingLabel="Revoking…" testId="revoke-key-confirm">
          Yes, revoke
        </SubmitButton>
        <button
          type="button"
          className="secondary"
          onClick={() => setAsking(false)}
          data-testid="revoke-key-cancel"
        >
          Cancel
        </button>
      </div>
    </form>
  );
}
