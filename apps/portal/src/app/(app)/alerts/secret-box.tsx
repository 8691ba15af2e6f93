'use client';

import { CopyButton } from '../../../components/copy-button';

/** The webhook signing secret, shown this once: billing keeps it encrypted and never returns it again. */
export function SigningSecretBox({ secret, onDismiss }: { secret: string; onDismiss: () => void }) {
  return (
    <section className="secret" data-testid="alert-secret-box" aria-labelledby="alert-secret-title">
      <h3 id="alert-secret-title">Copy the webhook signing secret now</h3>
      <p>
        This is the <strong>only time</strong> it is shown. Your receiver checks each webhook&apos;s{' '}
        <code>x-tollgate-signature</code> header (<code>t=…,v1=…</code>, an HMAC-SHA256 of{' '}
        <code>&lt;t&gt;.&lt;raw body&gt;</code>) with it. Lost it? Rotate to get a new one.
      </p>
      <div className="secret-value">
        <code data-testid="alert-secret" aria-label="Webhook signing secret">
          {secret}
        </code>
        <CopyButton text={secret} label="Copy secret" testId="copy-alert-secret" />
      </div>
      <button
        type="button"
        className="secondary"
        onClick={onDismiss}
        data-testid="dismiss-alert-secret"
      >
        I have stored it
      </button>
    </section>
  );
}
