import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import { problem, sendProblem } from '@tollgate/server-kit';
import type { Response } from 'express';

/** Failures of the alert settings, as stable string codes (problem+json `code`). */
export enum AlertsErrorCode {
  EncryptionUnavailable = 'alert_encryption_unavailable',
  WebhookUrlNotAllowed = 'alert_webhook_url_not_allowed',
}

export class AlertsException extends Error {
  constructor(
    readonly code: AlertsErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AlertsException';
  }
}

/** Maps alerts codes to problem+json (the global billing filter handles everything else). */
@Catch(AlertsException)
export class AlertsExceptionFilter implements ExceptionFilter {
  catch(e: AlertsException, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    switch (e.code) {
      case AlertsErrorCode.EncryptionUnavailable:
        return sendProblem(
          res,
          problem(503, e.code, 'Alert webhooks need TOLLGATE_ENCRYPTION_KEY on billing', e.message),
        );
      case AlertsErrorCode.WebhookUrlNotAllowed:
        return sendProblem(res, problem(400, e.code, 'Webhook URL not allowed', e.message));
    }
  }
}
