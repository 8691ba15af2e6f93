import { AccountsErrorCode, AccountsException } from './accounts.exception';
import { describeAccountsError, problemFromAccountsException } from './problem.filter';

describe('problemFromAccountsException', () => {
  it.each(Object.values(AccountsErrorCode))('maps %s to an error status and a title', (code) => {
    const [status, title] = describeAccountsError(code);

    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(600);
    expect(title.length).toBeGreaterThan(0);
  });

  it('hides existence: every not-found code is 404 and membership problems are 403', () => {
    expect(describeAccountsError(AccountsErrorCode.TenantNotFound)[0]).toBe(404);
    expect(describeAccountsError(AccountsErrorCode.ApiKeyNotFound)[0]).toBe(404);
    expect(describeAccountsError(AccountsErrorCode.Forbidden)[0]).toBe(403);
  });

  it('builds a problem document with the code, detail and field errors', () => {
    const sut = problemFromAccountsException(
      new AccountsException(AccountsErrorCode.ValidationFailed, 'expiresAt must be in the future', {
        errors: ['expiresAt'],
      }),
    );

    expect(sut).toEqual({
      type: 'https://tollgate.dev/problems/validation_failed',
      title: 'Request validation failed',
      status: 400,
      code: 'validation_failed',
      detail: 'expiresAt must be in the future',
      errors: ['expiresAt'],
    });
  });
});
