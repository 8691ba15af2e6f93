'use client';

import { useActionState, useState } from 'react';
import type { CreatedApiKeyResponseDto } from '@tollgate/contracts';
import { createKeyAction } from '../app/(app)/actions';
import { idle, type CreateKeyState } from '../lib/forms';
import { CopyButton } from './copy-button';
import { ProblemAlert } from './problem-alert';
import { SubmitButton } from './submit-button';

/** The new key's secret, shown this once: the server keeps only its hash. */
function SecretBox({
  created,
  onDismiss,
}: {
  created: CreatedApiKeyResponseDto;
  onDismiss: () => void;
}) {
  return (
    <section className="secret" data-testid="new-key-box" aria-labelledby="new-key-title">
      <h3 id="new-key-title">Copy your new key “{created.name}” now</h3>
      <p>
        This is the <strong>only time</strong> the full key is shown. Store it somewhere safe:
        Tollgate keeps only a hash and will show just its prefix <code>{created.prefix}</code> from
        now on.
      </p>
      <div className="secret-value">
        <code data-testid="new-key-secret" aria-label="New API key">
          {created.key}
        </code>
        <CopyButton text={created.key} label="Copy key" testId="copy-key" />
      </div>
      <button type="button" className="secondary" onClick={onDismiss} data-testid="dismiss-key">
        I have stored it
      </button>
    </section>
  );
}

export function CreateKeyForm({ tenantId }: { tenantId: string }) {
  const [state, action] = useActionState<CreateKeyState, FormData>(
    createKeyAction.bind(null, tenantId),
    idle(),
  );
  const [dismissed, setDismissed] = useState<string | null>(null);
  const created =
    state.status === 'created' && state.created.id !== dismissed ? state.created : null;
  return (
    <div>
      <form action={action} className="stack form-narrow" data-testid="create-key-form" noValidate>
        <h2>Create an API key</h2>
        {state.status === 'error' && <ProblemAlert problem={state.problem} testId="form-error" />}
        <div className="field">
          <label htmlFor="key-name">Name</label>
          <input
            id="key-name"
            name="name"
            type="text"
            required
            maxLength={120}
            defaultValue={state.values.name}
            data-testid="key-name"
          />
        </div>
        <div className="field">
          <label htmlFor="key-models">Allowed models (optional)</label>
          <input
            id="key-models"
            name="models"
            type="text"
            placeholder="all models"
            aria-describedby="key-models-hint"
            defaultValue={state.values.models}
            data-testid="key-models"
          />
          <span id="key-models-hint" className="hint">
            Comma-separated, e.g. <code>gpt-4o-mini, gpt-4o</code>. Leave empty to allow every
            model.
          </span>
        </div>
        <div className="field">
          <label htmlFor="key-expires">Expires on (optional)</label>
          <input
            id="key-expires"
            name="expiresOn"
            type="date"
            aria-describedby="key-expires-hint"
            defaultValue={state.values.expiresOn}
            data-testid="key-expires"
          />
          <span id="key-expires-hint" className="hint">
            The key stops working at the end of that day (UTC).
          </span>
        </div>
        <SubmitButton pendingLabel="Creating…" testId="key-submit">
          Create key
        </SubmitButton>
      </form>
      {created && <SecretBox created={created} onDismiss={() => setDismissed(created.id)} />}
    </div>
  );
}
