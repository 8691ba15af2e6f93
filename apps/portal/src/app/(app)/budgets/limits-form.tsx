'use client';

import { useActionState } from 'react';
import type { LimitScope } from '@tollgate/contracts';
import { Notice, ProblemAlert } from '../../../components/problem-alert';
import { SubmitButton } from '../../../components/submit-button';
import { idle, type FormValues } from '../../../lib/forms';
import {
  BUDGET_FIELDS,
  COUNT_FIELDS,
  errorsForField,
  LIMIT_LABELS,
  type LimitField,
} from '../../../lib/limits';
import { updateLimitsAction } from './actions';

export const FIELDSET = {
  border: 0,
  padding: 0,
  margin: 0,
  display: 'flex',
  flexDirection: 'column',
  gap: '0.85rem',
} as const;

const HINTS: Record<LimitField, string> = {
  dailyBudgetUsd: 'US dollars per calendar day of the billing time zone.',
  monthlyBudgetUsd: 'US dollars per calendar month of the billing time zone.',
  totalBudgetUsd: 'US dollars since the beginning, never reset.',
  rpm: 'Requests in any 60 seconds.',
  tpm: 'Prompt and completion tokens in any 60 seconds.',
  maxConcurrent: 'Requests in flight at the same time.',
};

export function LimitInput({
  f,
  value,
  errors,
  idPrefix,
  testIdPrefix = 'limit',
}: {
  f: LimitField;
  value: string | undefined;
  errors: string[];
  idPrefix: string;
  /** test ids are `<prefix>-<field>` (and `-error`): distinct per form on a page */
  testIdPrefix?: string;
}) {
  const id = `${idPrefix}-${f}`;
  const isBudget = (BUDGET_FIELDS as readonly string[]).includes(f);
  return (
    <div className="field">
      <label htmlFor={id}>
        {LIMIT_LABELS[f]}
        {isBudget ? ' (USD)' : ''}
      </label>
      <input
        id={id}
        name={f}
        type="text"
        inputMode={isBudget ? 'decimal' : 'numeric'}
        autoComplete="off"
        placeholder="unlimited"
        defaultValue={value}
        aria-invalid={errors.length > 0 || undefined}
        aria-describedby={`${id}-hint${errors.length ? ` ${id}-error` : ''}`}
        data-testid={`${testIdPrefix}-${f}`}
      />
      <span id={`${id}-hint`} className="hint">
        {HINTS[f]}
      </span>
      {errors.length > 0 && (
        <span
          id={`${id}-error`}
          className="hint"
          style={{ color: 'var(--danger)' }}
          data-testid={`${testIdPrefix}-${f}-error`}
        >
          {errors.join(' ')}
        </span>
      )}
    </div>
  );
}

/**
 * The six limits of one scope. Every field is sent: a blank one means "no limit". Refusals (the
 * portal's checks or the API's problem details) are listed above the form and beside their field.
 */
export function LimitsForm({
  scope,
  id,
  initial,
}: {
  scope: LimitScope;
  id: string;
  initial: FormValues;
}) {
  const [state, action] = useActionState(updateLimitsAction.bind(null, scope, id), idle(initial));
  const errors = state.status === 'error' ? state.problem.errors : undefined;
  const idPrefix = `limits-${scope}`;
  return (
    <form action={action} className="stack" data-testid="limits-form" noValidate>
      <h2>Edit limits</h2>
      <p className="small muted">
        Leave a field empty for no limit. <code>0</code> is a real limit: nothing is admitted.
      </p>
      {state.status === 'error' && <ProblemAlert problem={state.problem} testId="form-error" />}
      {state.status === 'done' && <Notice testId="form-success">{state.message}</Notice>}
      <fieldset style={FIELDSET}>
        <legend className="small muted">Budgets</legend>
        {BUDGET_FIELDS.map((f) => (
          <LimitInput
            key={f}
            f={f}
            value={state.values[f]}
            errors={errorsForField(errors, f)}
            idPrefix={idPrefix}
          />
        ))}
      </fieldset>
      <fieldset style={FIELDSET}>
        <legend className="small muted">Rate limits</legend>
        {COUNT_FIELDS.map((f) => (
          <LimitInput
            key={f}
            f={f}
            value={state.values[f]}
            errors={errorsForField(errors, f)}
            idPrefix={idPrefix}
          />
        ))}
      </fieldset>
      <SubmitButton pendingLabel="Saving…" testId="limits-submit">
        Save limits
      </SubmitButton>
    </form>
  );
}
