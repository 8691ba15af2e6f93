import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import type { ProblemDetails } from '@tollgate/contracts';
import { problem, problemFromUnknown, sendProblem } from '@tollgate/server-kit';
import type { Response } from 'express';
import { BillingErrorCode, BillingException } from './billing.exception';

export function problemForBillingException(e: BillingException): ProblemDetails {
  switch (e.code) {
    case BillingErrorCode.OrganisationNotFound:
      return problem(404, e.code, 'Organisation not found', e.message);
    case BillingErrorCode.InsufficientRole:
      return problem(403, e.code, 'Your role in this organisation does not allow this', e.message);
    case BillingErrorCode.PlatformAdminRequired:
      return problem(403, e.code, 'Platform administrators only', e.message);
    case BillingErrorCode.InvalidCursor:
      return problem(400, e.code, 'Invalid cursor', e.message);
    case BillingErrorCode.InvalidTimeRange:
      return problem(400, e.code, 'Invalid time range', e.message);
    case BillingErrorCode.PriceNotFound:
      return problem(404, e.code, 'Price not found', e.message);
    case BillingErrorCode.PriceOutOfRange:
      return problem(400, e.code, 'Price out of range', e.message);
    case BillingErrorCode.ProjectionUnavailable:
      return problem(
        503,
        e.code,
        'Saved, but the price could not be published to Redis; retry the request',
        e.message,
      );
    case BillingErrorCode.NotReady:
      return problem(503, e.code, 'Not ready', e.message);
  }
}

/** The one exception filter of billing: domain codes first, framework exceptions through server-kit. */
@Catch()
export class BillingExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(BillingExceptionFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const body =
      exception instanceof BillingException
        ? problemForBillingException(exception)
        : problemFromUnknown(exception);
    if (body.status >= 500 && !(exception instanceof BillingException)) {
      this.logger.error(exception instanceof Error ? exception : String(exception));
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    sendProblem(res, body);
  }
}
