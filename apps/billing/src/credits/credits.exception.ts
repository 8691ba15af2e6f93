import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import { problem, sendProblem } from '@tollgate/server-kit';
import type { Response } from 'express';

/** Failures of credits, as stable string codes (problem+json `code`). */
export enum CreditsErrorCode {
  AmountNotPositive = 'amount_not_positive',
  RedemptionCodeInvalid = 'redemption_code_invalid',
  InvalidExpiry = 'invalid_expiry',
}

export class CreditsException extends Error {
  constructor(
    readonly code: CreditsErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CreditsException';
  }
}

/**
 * Maps credits codes to problem+json (the global billing filter handles everything else).
 * Kept beside the module so the shared BillingErrorCode enum did not have to change; merge later.
 */
@Catch(CreditsException)
export class CreditsExceptionFilter implements ExceptionFilter {
  catch(e: CreditsException, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    switch (e.code) {
      case CreditsErrorCode.AmountNotPositive:
        return sendProblem(res, problem(400, e.code, 'Amount must be more than 0', e.message));
      case CreditsErrorCode.RedemptionCodeInvalid:
        // one answer for unknown, used and expired codes: nothing to learn by probing
        return sendProblem(
          res,
          problem(400, e.code, 'The code is unknown, used or expired', e.message),
        );
      case CreditsErrorCode.InvalidExpiry:
        return sendProblem(res, problem(400, e.code, 'Invalid expiry', e.message));
    }
  }
}
