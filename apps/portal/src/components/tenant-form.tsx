'use client';

import { useActionState } from 'react';
import { createTenantAction } from '../app/(app)/actions';
import { idle } from '../lib/forms';
import { Notice, ProblemAlert } from './problem-alert';
import { SubmitButton } from './submit-button';

export function CreateTenantForm({ orgId }: { orgId: string }) {
  const [state, action] = useActionState(createTenantAction.bind(null, orgId), idle());
  return (
    <form action={action} className="stack" data-testid="create-tenant-form" noValidate>
      <h2>Create a tenant</h2>
      {state.status === 'error' && <ProblemAlert problem={state.problem} testId="form-error" />}
      {state.status === 'done' && <Notice testId="form-success">{state.message}</Notice>}
      <div className="field">
        <label htmlFor="tenant-name">Name</label>
        <input
          id="tenant-name"
          name="name"
          type="text"
          required
          maxLength={120}
          defaultValue={state.values.name}
          data-testid="tenant-name"
        />
      </div>
      <div className="field">
        <label htmlFor="tenant-group">Group (optional)</label>
        <input
          id="tenant-group"
          name="group"
          type="text"
          placeholder="default"
          aria-describedby="tenant-group-hint"
          defaultValue={state.values.group}
          data-testid="tenant-group"
        />
        <span id="tenant-group-hint" className="hint">
          Routes the tenant to the channels allowed for its group, e.g. <code>internal-tools</code>.
        </span>
      </div>
      <SubmitButton pendingLabel="Creating…" testId="tenant-submit">
        Create tenant
      </SubmitButton>
    </form>
  );
}
