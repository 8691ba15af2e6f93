import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import type { ProblemDetails } from '@tollgate/contracts';
import { problem, problemFromUnknown, sendProblem } from '@tollgate/server-kit';
import type { Response } from 'express';
import { AccountsErrorCode, AccountsException } from './accounts.exception';

/** Status and title of each domain code; the switch is exhaustive, so a new code must be mapped. */
export function describeAccountsError(code: AccountsErrorCode): [status: number, title: string] {
  switch (code) {
    case AccountsErrorCode.ValidationFailed:
      return [400, 'Request validation failed'];
    case AccountsErrorCode.InvalidCursor:
      return [400, 'Invalid pagination cursor'];
    case AccountsErrorCode.InvalidCredentials:
      return [401, 'Invalid email or password'];
    case AccountsErrorCode.InvalidRefreshToken:
      return [401, 'Invalid refresh token'];
    case AccountsErrorCode.TooManyLoginAttempts:
      return [429, 'Too many failed login attempts'];
    case AccountsErrorCode.EmailTaken:
      return [409, 'Email already registered'];
    case AccountsErrorCode.AlreadyMember:
      return [409, 'Already a member'];
    case AccountsErrorCode.Forbidden:
      return [403, 'Forbidden'];
    case AccountsErrorCode.PlatformAdminRequired:
      return [403, 'Platform administrator required'];
    case AccountsErrorCode.OrganisationNotFound:
      return [404, 'Organisation not found'];
    case AccountsErrorCode.TenantNotFound:
      return [404, 'Tenant not found'];
    case AccountsErrorCode.ApiKeyNotFound:
      return [404, 'API key not found'];
    case AccountsErrorCode.ChannelNotFound:
      return [404, 'Channel not found'];
    case AccountsErrorCode.UserNotFound:
      return [404, 'User not found'];
    case AccountsErrorCode.ProjectionUnavailable:
      return [503, 'Change saved but not yet propagated'];
    case AccountsErrorCode.DependencyUnavailable:
      return [503, 'Service dependency unavailable'];
  }
}

export function problemFromAccountsException(e: AccountsException): ProblemDetails {
  const [status, title] = describeAccountsError(e.code);
  return problem(status, e.code, title, e.detail, e.errors);
}

/** The one exception filter: every error leaves as application/problem+json. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger(ProblemFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const body =
      exception instanceof AccountsException
        ? problemFromAccountsException(exception)
        : problemFromUnknown(exception);
    if (body.status >= 500) {
      this.logger.error(exception instanceof Error ? exception : String(exception));
    }
    if (res.headersSent) return;
    if (exception instanceof AccountsException && exception.retryAfterSeconds !== undefined) {
      res.setHeader('Retry-After', String(Math.max(1, Math.ceil(exception.retryAfterSeconds))));
    }
    if (body.status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
    sendProblem(res, body);
  }
}
