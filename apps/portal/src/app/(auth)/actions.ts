'use server';

import { redirect } from 'next/navigation';
import { backend } from '../../lib/backend';
import { field, validateLogin, validateSignup, type FormState } from '../../lib/forms';
import { toProblemView, validationProblem } from '../../lib/problem';
import { safeNextPath } from '../../lib/session';
import { rememberOrganisation, writeSession } from '../../lib/server-session';

/** Passwords are taken exactly as typed (no trimming) and never echoed back into the form. */
function password(form: FormData): string {
  const v = form.get('password');
  return typeof v === 'string' ? v : '';
}

export async function signupAction(_prev: FormState, form: FormData): Promise<FormState> {
  const values = { email: field(form, 'email'), organisationName: field(form, 'organisationName') };
  const pw = password(form);
  const errors = validateSignup({ ...values, password: pw });
  if (errors.length) return { status: 'error', problem: validationProblem(errors), values };
  try {
    const res = await backend.signup({ ...values, password: pw });
    await writeSession(res);
    await rememberOrganisation(res.organisation.id);
  } catch (err) {
    return { status: 'error', problem: toProblemView(err), values };
  }
  redirect('/');
}

export async function loginAction(_prev: FormState, form: FormData): Promise<FormState> {
  const values = { email: field(form, 'email'), next: field(form, 'next') };
  const pw = password(form);
  const errors = validateLogin({ email: values.email, password: pw });
  if (errors.length) return { status: 'error', problem: validationProblem(errors), values };
  try {
    const tokens = await backend.login({ email: values.email, password: pw });
    await writeSession(tokens);
  } catch (err) {
    return { status: 'error', problem: toProblemView(err), values };
  }
  redirect(safeNextPath(values.next));
}
