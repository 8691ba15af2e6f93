import { HttpException, HttpStatus } from '@nestjs/common';
import type { ProblemDetails } from '@tollgate/contracts';
import { PROBLEM_CONTENT_TYPE } from '@tollgate/contracts';
import type { Response } from 'express';

export const PROBLEM_TYPE_BASE = 'https://tollgate.dev/problems/';

export function problem(
  status: number,
  code: string,
  title: string,
  detail?: string,
  errors?: string[],
): ProblemDetails {
  const body: ProblemDetails = { type: `${PROBLEM_TYPE_BASE}${code}`, title, status, code };
  if (detail !== undefined) body.detail = detail;
  if (errors !== undefined && errors.length) body.errors = errors;
  return body;
}

/** Raised by the validation pipe: carries each field's message. */
export class RequestValidationException extends HttpException {
  constructor(readonly messages: string[]) {
    super({ message: messages }, HttpStatus.BAD_REQUEST);
  }
}

const DEFAULT_CODES: Record<number, [string, string]> = {
  400: ['bad_request', 'Bad request'],
  401: ['unauthenticated', 'Authentication required'],
  403: ['forbidden', 'Forbidden'],
  404: ['not_found', 'Not found'],
  405: ['method_not_allowed', 'Method not allowed'],
  409: ['conflict', 'Conflict'],
  413: ['payload_too_large', 'Request body too large'],
  415: ['unsupported_media_type', 'Unsupported media type'],
  429: ['too_many_requests', 'Too many requests'],
};

/**
 * Maps framework exceptions (validation, malformed JSON, unknown routes, guards) to problem details.
 * Each app's own filter handles its domain exceptions first and falls back to this.
 */
export function problemFromUnknown(exception: unknown): ProblemDetails {
  if (exception instanceof RequestValidationException) {
    return problem(400, 'validation_failed', 'Request validation failed', exception.messages.join('; '), exception.messages);
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const [code, title] = DEFAULT_CODES[status] ?? (status >= 500 ? ['internal_error', 'Internal error'] : ['error', 'Error']);
    const resp = exception.getResponse();
    let detail = exception.message;
    if (typeof resp === 'object' && resp !== null && 'message' in resp) {
      const m = (resp as { message: unknown }).message;
      detail = Array.isArray(m) ? m.join('; ') : String(m);
    }
    // body-parser's malformed JSON surfaces as a 400 with a SyntaxError message
    if (status === 400 && /JSON/i.test(detail)) return problem(400, 'malformed_json', 'Malformed JSON body', detail);
    return problem(status, code, title, detail);
  }
  const e = exception as { type?: string; status?: number; message?: string };
  if (e && e.type === 'entity.parse.failed') return problem(400, 'malformed_json', 'Malformed JSON body', e.message);
  if (e && e.type === 'entity.too.large') return problem(413, 'payload_too_large', 'Request body too large');
  return problem(500, 'internal_error', 'Internal error');
}

export function sendProblem(res: Response, body: ProblemDetails): void {
  res.status(body.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
}
