import { BillingErrorCode, BillingException } from './billing.exception';
import { problemForBillingException } from './billing-exception.filter';

describe('problemForBillingException', () => {
  it.each(Object.values(BillingErrorCode))(
    'maps %s to a problem with that code and an error status',
    (code) => {
      const sut = problemForBillingException(new BillingException(code, 'why'));
      expect(sut.code).toBe(code);
      expect(sut.status).toBeGreaterThanOrEqual(400);
      expect(sut.detail).toBe('why');
      expect(sut.type).toMatch(new RegExp(`/${code}$`));
    },
  );

  it.each([
    [BillingErrorCode.OrganisationNotFound, 404],
    [BillingErrorCode.InsufficientRole, 403],
    [BillingErrorCode.PlatformAdminRequired, 403],
    [BillingErrorCode.InvalidCursor, 400],
    [BillingErrorCode.NotReady, 503],
  ])('answers %s with %i', (code, status) => {
    expect(problemForBillingException(new BillingException(code, '')).status).toBe(status);
  });
});
