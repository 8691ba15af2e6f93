'use client';

import { useActionState } from 'react';
import type { ModelLimitScope } from '@tollgate/contracts';
import { Notice, ProblemAlert } from '../../../components/problem-alert';
import { SubmitButton } from '../../../components/submit-button';
import { idle, type FormValues } from '../../../lib/forms';
import { BUDGET_FIELDS, COUNT_FIELDS, errorsForField } from '../../../lib/limits';
import { saveModelLimitsAction } from './actions';
import { FIELDSET, LimitInput } from './limits-form';

const EMPTY: FormValues = { model: '' };

/**
 * Sets the limits of one model on a tenant or key: a new model, or (same name) a new version of an
 * existing one's six settings. Blank fields are unlimited.
 */
export function ModelLimitsForm({ scope, id }: { scope: ModelLimitScope; id: string }) {
  const [state, action] = useActionState(saveModelLimitsAction.bind(null, scope, id), idle(EMPTY));
  const errors = state.status === 'error' ? state.problem.errors : undefined;
  const modelErrors = (errors ?? []).filter(
    (e) => e.startsWith('Model ') || e.startsWith('model '),
  );
  const idPrefix = `model-limits-${scope}`;
  return (
    <form action={action} className="stack" data-testid="model-limits-form" noValidate>
      <h3>Set limits for a model</h3>
      {state.status === 'error' && (
        <ProblemAlert problem={state.problem} testId="model-form-error" />
      )}
      {state.status === 'done' && <Notice testId="model-form-success">{state.message}</Notice>}
      <div className="field">
        <label htmlFor={`${idPrefix}-model`}>Model</label>
        <input
          id={`${idPrefix}-model`}
          name="model"
          type="text"
          autoComplete="off"
          placeholder="gpt-4o-mini"
          defaultValue={state.values.model}
          aria-invalid={modelErrors.length > 0 || undefined}
          data-testid="model-limit-model"
        />
        <span className="hint">
          The public model name clients ask for; saving an existing one replaces its limits.
        </span>
      </div>
      <fieldset style={FIELDSET}>
        <legend className="small muted">Budgets and rate limits on this model only</legend>
        {[...BUDGET_FIELDS, ...COUNT_FIELDS].map((f) => (
          <LimitInput
            key={`${f}-${state.status}`}
            f={f}
            value={state.values[f]}
            errors={errorsForField(errors, f)}
            idPrefix={idPrefix}
            testIdPrefix="model-limit"
          />
        ))}
      </fieldset>
      <SubmitButton pendingLabel="Saving…" testId="model-limits-submit">
        Save model limits
      </SubmitButton>
    </form>
  );
}
