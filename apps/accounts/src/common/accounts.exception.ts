/** Every error the accounts domain raises; the problem filter maps each to a status and title. */
export enum AccountsErrorCode {
  ValidationFailed = 'validation_failed',
  InvalidCursor = 'invalid_cursor',
  InvalidCredentials = 'invalid_credentials',
  InvalidRefreshToken = 'invalid_refresh_token',
  TooManyLoginAttempts = 'too_many_login_attempts',
  EmailTaken = 'email_taken',
  AlreadyMember = 'already_member',
  Forbidden = 'forbidden',
  PlatformAdminRequired = 'platform_admin_required',
  OrganisationNotFound = 'organisation_not_found',
  TenantNotFound = 'tenant_not_found',
  ApiKeyNotFound = 'api_key_not_found',
  ChannelNotFound = 'channel_not_found',
  UserNotFound = 'user_not_found',
  ProjectionUnavailable = 'projection_unavailable',
  DependencyUnavailable = 'dependency_unavailable',
}

export interface AccountsExceptionOptions {
  /** field-level messages (validation) */
  errors?: string[];
  /** seconds, sent as `Retry-After` */
  retryAfterSeconds?: number;
  cause?: unknown;
}

/** A domain error. Services throw these, never HttpException. */
export class AccountsException extends Error {
  readonly errors?: string[];
  readonly retryAfterSeconds?: number;

  constructor(
    readonly code: AccountsErrorCode,
    readonly detail?: string,
    options: AccountsExceptionOptions = {},
  ) {
    super(detail ?? code, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AccountsException';
    this.errors = options.errors;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}
