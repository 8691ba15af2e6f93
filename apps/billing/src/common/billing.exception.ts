/** Every failure billing reports to a caller, as a stable string code. */
export enum BillingErrorCode {
  OrganisationNotFound = 'organisation_not_found',
  InsufficientRole = 'insufficient_role',
  PlatformAdminRequired = 'platform_admin_required',
  InvalidCursor = 'invalid_cursor',
  InvalidTimeRange = 'invalid_time_range',
  PriceNotFound = 'price_not_found',
  PriceOutOfRange = 'price_out_of_range',
  ProjectionUnavailable = 'projection_unavailable',
  NotReady = 'not_ready',
}

/** A domain failure; the global filter maps its code to a problem+json response. */
export class BillingException extends Error {
  constructor(
    readonly code: BillingErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BillingException';
  }
}
