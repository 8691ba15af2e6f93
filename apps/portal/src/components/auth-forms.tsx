'use client';

import Link from 'next/link';
import { useActionState } from 'react';
import { loginAction, signupAction } from '../app/(auth)/actions';
import { idle, PASSWORD_MIN } from '../lib/forms';
import { ProblemAlert } from './problem-alert';
import { SubmitButton } from './submit-button';

export function SignupForm() {
  const [state, action] = useActionState(signupAction, idle());
  return (
    <form action={action} className="stack" data-testid="signup-form" noValidate>
      <h1>Create your organisation</h1>
      <p className="muted">You become its owner. Tenants, keys and spend are managed here.</p>
      {state.status === 'error' && <ProblemAlert problem={state.problem} testId="form-error" />}
      <div className="field">
        <label htmlFor="signup-org">Organisation name</label>
        <input
          id="signup-org"
          name="organisationName"
          type="text"
          required
          maxLength={120}
          autoComplete="organization"
          defaultValue={state.values.organisationName}
          data-testid="signup-organisation"
        />
      </div>
      <div className="field">
        <label htmlFor="signup-email">Email</label>
        <input
          id="signup-email"
          name="email"
          type="email"
          required
          autoComplete="email"
          defaultValue={state.values.email}
          data-testid="signup-email"
        />
      </div>
      <div className="field">
        <label htmlFor="signup-password">Password</label>
        <input
          id="signup-password"
          name="password"
          type="password"
          required
          minLength={PASSWORD_MIN}
          autoComplete="new-password"
          aria-describedby="signup-password-hint"
          data-testid="signup-password"
        />
        <span id="signup-password-hint" className="hint">
          At least {PASSWORD_MIN} characters.
        </span>
      </div>
      <SubmitButton pendingLabel="Creating…" testId="signup-submit">
        Sign up
      </SubmitButton>
      <p className="small muted">
        Already have an account? <Link href="/login">Log in</Link>
      </p>
    </form>
  );
}

export function LoginForm({ next, expired }: { next: string; expired: boolean }) {
  const [state, action] = useActionState(loginAction, idle({ email: '', next }));
  return (
    <form action={action} className="stack" data-testid="login-form" noValidate>
      <h1>Log in</h1>
      {expired && state.status === 'idle' && (
        <div className="alert alert-info" role="status" data-testid="session-expired">
          Your session has ended. Please log in again.
        </div>
      )}
      {state.status === 'error' && <ProblemAlert problem={state.problem} testId="form-error" />}
      <input type="hidden" name="next" value={state.values.next ?? next} />
      <div className="field">
        <label htmlFor="login-email">Email</label>
        <input
          id="login-email"
          name="email"
          type="email"
          required
          autoComplete="email"
          defaultValue={state.values.email}
          data-testid="login-email"
        />
      </div>
      <div className="field">
        <label htmlFor="login-password">Password</label>
        <input
          id="login-password"
          name="password"
          type="password"
          required
          autoComplete="current-password"
          data-testid="login-password"
        />
      </div>
      <SubmitButton pendingLabel="Logging in…" testId="login-submit">
        Log in
      </SubmitButton>
      <p className="small muted">
        New to Tollgate? <Link href="/signup">Create an organisation</Link>
      </p>
    </form>
  );
}
