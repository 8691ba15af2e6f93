'use server';

import { revalidatePath } from 'next/cache';
import { redirect } from 'next/navigation';
import { validateRedeemCode } from '../../../lib/alerts';
import { budgetBackend } from '../../../lib/budget-backend';
import { field, type FormState } from '../../../lib/forms';
import { formatUsd } from '../../../lib/format';
import { ApiError, toProblemView, validationProblem } from '../../../lib/problem';
import { loginPath } from '../../../lib/session';
import { requireAccessToken } from '../../../lib/server-session';

/** Redeems a code onto the organisation's prepaid balance (owners only; billing checks). */
export async function redeemCodeAction(
  orgId: string,
  _prev: FormState,
  form: FormData,
): Promise<FormState> {
  const code = field(form, 'code');
  const values = { code };
  const errors = validateRedeemCode(code);
  if (errors.length) return { status: 'error', problem: validationProblem(errors), values };
  const token = await requireAccessToken();
  try {
    const credit = await budgetBackend.redeem(token, orgId, code);
    revalidatePath('/balance');
    return {
      status: 'done',
      values: { code: '' },
      message: `Code redeemed: ${formatUsd(credit.amountUsd)} added to the balance.`,
    };
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) redirect(loginPath(undefined, 'expired'));
    return { status: 'error', problem: toProblemView(err), values };
  }
}
