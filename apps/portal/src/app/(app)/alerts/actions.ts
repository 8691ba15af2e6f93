'use server';

import { revalidatePath } from 'next/cache';
import { redirect } from 'next/navigation';
import type { AlertSettingsResponseDto } from '@tollgate/contracts';
import { parseAlertSettings, type SecretFormState } from '../../../lib/alerts';
import { budgetBackend } from '../../../lib/budget-backend';
import { field, type FormValues } from '../../../lib/forms';
import { ApiError, toProblemView, validationProblem } from '../../../lib/problem';
import { loginPath } from '../../../lib/session';
import { requireAccessToken } from '../../../lib/server-session';

function failure(err: unknown, values: FormValues): SecretFormState {
  if (err instanceof ApiError && err.status === 401) redirect(loginPath(undefined, 'expired'));
  return { status: 'error', problem: toProblemView(err), values };
}

function settingsValues(s: AlertSettingsResponseDto): FormValues {
  return { webhookUrl: s.webhookUrl ?? '', thresholdsPercent: s.thresholdsPercent.join(', ') };
}

/** Replaces the webhook URL and thresholds; the first save also creates the signing secret. */
export async function saveAlertSettingsAction(
  orgId: string,
  _prev: SecretFormState,
  form: FormData,
): Promise<SecretFormState> {
  const values = {
    webhookUrl: field(form, 'webhookUrl'),
    thresholdsPercent: field(form, 'thresholdsPercent'),
  };
  const parsed = parseAlertSettings(values);
  if (!parsed.ok) return { status: 'error', problem: validationProblem(parsed.errors), values };
  const token = await requireAccessToken();
  try {
    const saved = await budgetBackend.putAlertSettings(token, orgId, parsed.body);
    revalidatePath('/alerts');
    if (saved.signingSecret) {
      return {
        status: 'secret',
        values: settingsValues(saved),
        message: 'Alert settings saved and a signing secret created.',
        secret: saved.signingSecret,
      };
    }
    return { status: 'done', values: settingsValues(saved), message: 'Alert settings saved.' };
  } catch (err) {
    return failure(err, values);
  }
}

/** A new signing secret: the old one stops verifying from now on. */
export async function rotateAlertSecretAction(
  orgId: string,
  _prev: SecretFormState,
  _form: FormData,
): Promise<SecretFormState> {
  const token = await requireAccessToken();
  try {
    const saved = await budgetBackend.rotateAlertSecret(token, orgId);
    revalidatePath('/alerts');
    if (!saved.signingSecret) {
      // billing always returns the new secret here; without it the rotation cannot be used
      return {
        status: 'error',
        problem: {
          status: 502,
          code: 'bad_backend_response',
          title: 'The billing service did not return the new secret',
          detail: 'Rotate again to get one.',
        },
        values: {},
      };
    }
    return {
      status: 'secret',
      values: settingsValues(saved),
      message: 'Signing secret rotated.',
      secret: saved.signingSecret,
    };
  } catch (err) {
    return failure(err, {});
  }
}
