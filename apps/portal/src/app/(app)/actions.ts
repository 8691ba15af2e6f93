'use server';

import { revalidatePath } from 'next/cache';
import { redirect } from 'next/navigation';
import { backend } from '../../lib/backend';
import {
  field,
  parseExpiry,
  parseModels,
  validateKey,
  validateTenant,
  type CreateKeyState,
  type FormState,
  type FormValues,
} from '../../lib/forms';
import { ApiError, toProblemView, validationProblem } from '../../lib/problem';
import { loginPath } from '../../lib/session';
import {
  clearSession,
  getMe,
  rememberOrganisation,
  requireAccessToken,
} from '../../lib/server-session';

/** A failed backend call as form state; a session the backend no longer accepts goes to the login page. */
function failure(err: unknown, values: FormValues): FormState {
  if (err instanceof ApiError && err.status === 401) redirect(loginPath(undefined, 'expired'));
  return { status: 'error', problem: toProblemView(err), values };
}

export async function logoutAction(): Promise<void> {
  await clearSession();
  redirect('/login');
}

export async function selectOrganisationAction(form: FormData): Promise<void> {
  const orgId = field(form, 'organisationId');
  const me = await getMe();
  if (me.memberships.some((m) => m.organisationId === orgId)) await rememberOrganisation(orgId);
  revalidatePath('/', 'layout');
  redirect('/');
}

export async function createTenantAction(
  orgId: string,
  _prev: FormState,
  form: FormData,
): Promise<FormState> {
  const values = { name: field(form, 'name'), group: field(form, 'group') };
  const errors = validateTenant(values);
  if (errors.length) return { status: 'error', problem: validationProblem(errors), values };
  const token = await requireAccessToken();
  try {
    await backend.createTenant(token, orgId, {
      name: values.name,
      group: values.group || undefined,
    });
  } catch (err) {
    return failure(err, values);
  }
  revalidatePath('/');
  return {
    status: 'done',
    values: { name: '', group: '' },
    message: `Tenant “${values.name}” created.`,
  };
}

export async function createKeyAction(
  tenantId: string,
  _prev: CreateKeyState,
  form: FormData,
): Promise<CreateKeyState> {
  const values = {
    name: field(form, 'name'),
    models: field(form, 'models'),
    expiresOn: field(form, 'expiresOn'),
  };
  const models = parseModels(values.models);
  const expiry = parseExpiry(values.expiresOn, new Date());
  const errors = validateKey({ name: values.name, models });
  if (!expiry.ok) errors.push(expiry.error);
  if (errors.length || !expiry.ok)
    return { status: 'error', problem: validationProblem(errors), values };
  const token = await requireAccessToken();
  try {
    const created = await backend.createKey(token, tenantId, {
      name: values.name,
      ...(models ? { models } : {}),
      ...(expiry.value ? { expiresAt: expiry.value } : {}),
    });
    revalidatePath(`/tenants/${tenantId}`);
    return { status: 'created', values: { name: '', models: '', expiresOn: '' }, created };
  } catch (err) {
    return failure(err, values);
  }
}

export async function revokeKeyAction(
  tenantId: string,
  keyId: string,
  _prev: FormState,
  _form: FormData,
): Promise<FormState> {
  const token = await requireAccessToken();
  try {
    await backend.revokeKey(token, keyId);
  } catch (err) {
    return failure(err, {});
  }
  revalidatePath(`/tenants/${tenantId}`);
  return { status: 'done', values: {}, message: 'Key revoked.' };
}
