'use server';

import { revalidatePath } from 'next/cache';
import { redirect } from 'next/navigation';
import type { LimitScope, ModelLimitScope } from '@tollgate/contracts';
import { budgetBackend } from '../../../lib/budget-backend';
import { field, type FormState, type FormValues } from '../../../lib/forms';
import {
  LIMIT_FIELDS,
  limitsToValues,
  parseLimits,
  parseModelName,
  parseOrgSettings,
} from '../../../lib/limits';
import { ApiError, toProblemView, validationProblem } from '../../../lib/problem';
import { loginPath } from '../../../lib/session';
import { requireAccessToken } from '../../../lib/server-session';

/** A failed backend call as form state; a session the backend no longer accepts goes to the login page. */
function failure(err: unknown, values: FormValues): FormState {
  if (err instanceof ApiError && err.status === 401) redirect(loginPath(undefined, 'expired'));
  return { status: 'error', problem: toProblemView(err), values };
}

/** The pages that show a scope's limits. */
function revalidateScope(scope: LimitScope): void {
  switch (scope) {
    case 'org':
      revalidatePath('/budgets');
      return;
    case 'tenant':
      revalidatePath('/tenants/[tenantId]/limits', 'page');
      return;
    case 'key':
      revalidatePath('/tenants/[tenantId]/keys/[keyId]/limits', 'page');
      return;
  }
}

const SCOPE_NAMES: Record<LimitScope, string> = {
  org: 'organisation',
  tenant: 'tenant',
  key: 'key',
};

/** Saves all six limits of an organisation, tenant or key (a blank field removes that limit). */
export async function updateLimitsAction(
  scope: LimitScope,
  id: string,
  _prev: FormState,
  form: FormData,
): Promise<FormState> {
  const values: FormValues = Object.fromEntries(LIMIT_FIELDS.map((f) => [f, field(form, f)]));
  const parsed = parseLimits(values);
  if (!parsed.ok) return { status: 'error', problem: validationProblem(parsed.errors), values };
  const token = await requireAccessToken();
  try {
    const saved = await budgetBackend.putLimits(token, scope, id, parsed.body);
    revalidateScope(scope);
    return {
      status: 'done',
      values: limitsToValues(saved),
      message: `Limits of the ${SCOPE_NAMES[scope]} saved. Every proxy applies them within a second.`,
    };
  } catch (err) {
    return failure(err, values);
  }
}

/** Sets the six limits of one model on a tenant or key (a blank field: no limit on that). */
export async function saveModelLimitsAction(
  scope: ModelLimitScope,
  id: string,
  _prev: FormState,
  form: FormData,
): Promise<FormState> {
  const values: FormValues = {
    model: field(form, 'model'),
    ...Object.fromEntries(LIMIT_FIELDS.map((f) => [f, field(form, f)])),
  };
  const model = parseModelName(values.model ?? '');
  const parsed = parseLimits(values);
  const errors = [...(model.ok ? [] : [model.error]), ...(parsed.ok ? [] : parsed.errors)];
  if (!model.ok || !parsed.ok)
    return { status: 'error', problem: validationProblem(errors), values };
  const token = await requireAccessToken();
  try {
    const saved = await budgetBackend.putModelLimits(token, scope, id, model.model, parsed.body);
    revalidateScope(scope);
    return {
      status: 'done',
      values: { model: '', ...Object.fromEntries(LIMIT_FIELDS.map((f) => [f, ''])) },
      message: `Limits of ${saved.model} on this ${SCOPE_NAMES[scope]} saved.`,
    };
  } catch (err) {
    return failure(err, values);
  }
}

/** Removes the per-model limits of one model on a tenant or key. */
export async function deleteModelLimitsAction(
  scope: ModelLimitScope,
  id: string,
  model: string,
): Promise<void> {
  const token = await requireAccessToken();
  try {
    await budgetBackend.deleteModelLimits(token, scope, id, model);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) redirect(loginPath(undefined, 'expired'));
    // already gone: the list below shows what is left
    if (!(err instanceof ApiError && err.status === 404)) throw err;
  }
  revalidateScope(scope);
}

/** The organisation's billing time zone and what admission does when its store is unreachable. */
export async function updateOrgSettingsAction(
  orgId: string,
  _prev: FormState,
  form: FormData,
): Promise<FormState> {
  const values: FormValues = {
    billingTimeZone: field(form, 'billingTimeZone'),
    admissionFailOpen: field(form, 'admissionFailOpen'),
  };
  const parsed = parseOrgSettings(values);
  if (!parsed.ok) return { status: 'error', problem: validationProblem(parsed.errors), values };
  const token = await requireAccessToken();
  try {
    const org = await budgetBackend.updateOrganisation(token, orgId, parsed.body);
    revalidatePath('/budgets');
    return {
      status: 'done',
      values: {
        billingTimeZone: org.billingTimeZone,
        admissionFailOpen: org.admissionFailOpen ? 'on' : '',
      },
      message: 'Organisation settings saved.',
    };
  } catch (err) {
    return failure(err, values);
  }
}
