'use client';

import { useActionState, useState } from 'react';
import { Notice, ProblemAlert } from '../../../components/problem-alert';
import { SubmitButton } from '../../../components/submit-button';
import type { SecretFormState } from '../../../lib/alerts';
import type { FormValues } from '../../../lib/forms';
import { rotateAlertSecretAction, saveAlertSettingsAction } from './actions';
import { SigningSecretBox } from './secret-box';

function useShownOnce(state: SecretFormState): [string | null, () => void] {
  const [dismissed, setDismissed] = useState<string | null>(null);
  const secret = state.status === 'secret' && state.secret !== dismissed ? state.secret : null;
  return [secret, () => setDismissed(secret)];
}

export function AlertSettingsForm({ orgId, initial }: { orgId: string; initial: FormValues }) {
  const [state, action] = useActionState<SecretFormState, FormData>(
    saveAlertSettingsAction.bind(null, orgId),
    { status: 'idle', values: initial },
  );
  const [secret, dismiss] = useShownOnce(state);
  return (
    <div>
      <form action={action} className="stack" data-testid="alert-settings-form" noValidate>
        <h2>Alert settings</h2>
        {state.status === 'error' && (
          <ProblemAlert problem={state.problem} testId="alert-form-error" />
        )}
        {(state.status === 'done' || state.status === 'secret') && (
          <Notice testId="alert-form-success">{state.message}</Notice>
        )}
        <div className="field">
          <label htmlFor="alert-webhook-url">Webhook URL (optional)</label>
          <input
            id="alert-webhook-url"
            name="webhookUrl"
            type="text"
            inputMode="url"
            autoComplete="off"
            placeholder="https://hooks.example.com/tollgate"
            maxLength={2000}
            defaultValue={state.values.webhookUrl}
            aria-describedby="alert-webhook-url-hint"
            data-testid="alert-webhook-url"
          />
          <span id="alert-webhook-url-hint" className="hint">
            Each alert is POSTed here as signed JSON and retried with back-off until it is accepted.
            It must be a public address. Leave empty to keep alerts on this page only.
          </span>
        </div>
        <div className="field">
          <label htmlFor="alert-thresholds">Thresholds (% of each budget)</label>
          <input
            id="alert-thresholds"
            name="thresholdsPercent"
            type="text"
            autoComplete="off"
            defaultValue={state.values.thresholdsPercent}
            aria-describedby="alert-thresholds-hint"
            data-testid="alert-thresholds"
          />
          <span id="alert-thresholds-hint" className="hint">
            Comma-separated, e.g. <code>50, 80, 100</code>. Each budget of the organisation, its
            tenants and keys raises one alert per threshold and window.
          </span>
        </div>
        <SubmitButton pendingLabel="Saving…" testId="alert-settings-submit">
          Save alert settings
        </SubmitButton>
      </form>
      {secret && <SigningSecretBox secret={secret} onDismiss={dismiss} />}
    </div>
  );
}

/** Rotating invalidates the receiver's secret, so it takes two clicks. */
export function RotateSecret({ orgId }: { orgId: string }) {
  const [state, action] = useActionState<SecretFormState, FormData>(
    rotateAlertSecretAction.bind(null, orgId),
    { status: 'idle', values: {} },
  );
  const [asking, setAsking] = useState(false);
  const [secret, dismiss] = useShownOnce(state);
  return (
    <div className="stack">
      {state.status === 'error' && <ProblemAlert problem={state.problem} testId="rotate-error" />}
      {secret ? (
        <SigningSecretBox
          secret={secret}
          onDismiss={() => {
            dismiss();
            setAsking(false);
          }}
        />
      ) : asking ? (
        <form action={action} className="confirm" data-testid="rotate-confirm">
          <span>
            Create a new signing secret? Webhooks are signed with the new one from now on; update
            your receiver right away.
          </span>
          <div className="row">
            <SubmitButton
              className="danger"
              pendingLabel="Rotating…"
              testId="rotate-secret-confirm"
            >
              Yes, rotate
            </SubmitButton>
            <button type="button" className="secondary" onClick={() => setAsking(false)}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <div>
          <button
            type="button"
            className="secondary"
            onClick={() => setAsking(true)}
            data-testid="rotate-secret"
          >
            Rotate signing secret
          </button>
        </div>
      )}
    </div>
  );
}
