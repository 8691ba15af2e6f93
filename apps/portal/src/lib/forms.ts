/**
 * Form input handling shared by the server actions: reading FormData, the checks that mirror the
 * backend DTOs (so the common mistakes get a message without a round trip), and the state the
 * forms render. The backends stay the authority: whatever they refuse is shown as they word it.
 */
import type { CreatedApiKeyResponseDto } from '@tollgate/contracts';
import type { ProblemView } from './problem';

export type FormValues = Record<string, string>;

export type FormState =
  | { status: 'idle'; values: FormValues }
  | { status: 'error'; problem: ProblemView; values: FormValues }
  | { status: 'done'; values: FormValues; message: string };

export type CreateKeyState =
  FormState | { status: 'created'; values: FormValues; created: CreatedApiKeyResponseDto };

export function idle(values: FormValues = {}): FormState {
  return { status: 'idle', values };
}

/** A trimmed string field; files and missing fields read as ''. */
export function field(form: FormData, name: string): string {
  const v = form.get(name);
  return typeof v === 'string' ? v.trim() : '';
}

export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 200;
// same as GROUP_NAME_PATTERN in @tollgate/contracts (types only are imported here)
export const GROUP_RE = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function checkEmail(email: string, errors: string[]): void {
  if (!email) errors.push('Email is required.');
  else if (email.length > 254 || !EMAIL_RE.test(email)) errors.push('Enter a valid email address.');
}

export function validateSignup(v: {
  email: string;
  password: string;
  organisationName: string;
}): string[] {
  const errors: string[] = [];
  checkEmail(v.email, errors);
  if (v.password.length < PASSWORD_MIN)
    errors.push(`Password must be at least ${PASSWORD_MIN} characters.`);
  if (v.password.length > PASSWORD_MAX)
    errors.push(`Password must be at most ${PASSWORD_MAX} characters.`);
  if (!v.organisationName) errors.push('Organisation name is required.');
  else if (v.organisationName.length > 120)
    errors.push('Organisation name must be at most 120 characters.');
  return errors;
}

export function validateLogin(v: { email: string; password: string }): string[] {
  const errors: string[] = [];
  checkEmail(v.email, errors);
  if (!v.password) errors.push('Password is required.');
  return errors;
}

export function validateTenant(v: { name: string; group: string }): string[] {
  const errors: string[] = [];
  if (!v.name) errors.push('Tenant name is required.');
  else if (v.name.length > 120) errors.push('Tenant name must be at most 120 characters.');
  if (v.group && !GROUP_RE.test(v.group)) {
    errors.push(
      'Group must start with a lower-case letter or digit and contain only a-z, 0-9, ".", "_" or "-" (max 63).',
    );
  }
  return errors;
}

/** "gpt-4o-mini, gpt-4o\nclaude" → ["gpt-4o-mini","gpt-4o","claude"]; blank → undefined (all models). */
export function parseModels(raw: string): string[] | undefined {
  const models = [
    ...new Set(
      raw
        .split(/[\s,]+/)
        .map((m) => m.trim())
        .filter(Boolean),
    ),
  ];
  return models.length ? models : undefined;
}

/**
 * An expiry date from a date input (YYYY-MM-DD) as the end of that day in UTC, in ISO 8601.
 * Blank means the key never expires.
 */
export function parseExpiry(
  raw: string,
  now: Date,
): { ok: true; value?: string } | { ok: false; error: string } {
  if (!raw) return { ok: true };
  if (!/^\d{4}-\d{2}-\d{2}$/.test(raw))
    return { ok: false, error: 'Expiry must be a date (YYYY-MM-DD).' };
  const end = new Date(`${raw}T23:59:59.000Z`);
  if (Number.isNaN(end.getTime()) || end.toISOString().slice(0, 10) !== raw) {
    return { ok: false, error: 'Expiry is not a real date.' };
  }
  if (end.getTime() <= now.getTime()) return { ok: false, error: 'Expiry must be in the future.' };
  return { ok: true, value: end.toISOString() };
}

export function validateKey(v: { name: string; models: string[] | undefined }): string[] {
  const errors: string[] = [];
  if (!v.name) errors.push('Key name is required.');
  else if (v.name.length > 120) errors.push('Key name must be at most 120 characters.');
  if (v.models && v.models.length > 200) errors.push('At most 200 models may be listed.');
  if (v.models?.some((m) => m.length > 200))
    errors.push('A model name may be at most 200 characters.');
  return errors;
}
