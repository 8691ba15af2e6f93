import {
  ApiError,
  problemFromResponseBody,
  problemLines,
  toProblemView,
  validationProblem,
} from './problem';

describe('problemFromResponseBody', () => {
  it('keeps a service problem as sent', () => {
    const body = {
      type: 'https://tollgate.dev/problems/validation_failed',
      title: 'Request validation failed',
      status: 400,
      code: 'validation_failed',
      detail: 'name should not be empty; group must be lower-case',
      errors: ['name should not be empty', 'group must be lower-case'],
    };
    const sut = problemFromResponseBody(400, 'application/problem+json', JSON.stringify(body));
    expect(sut).toEqual(body);
  });

  it('trusts the response status over the status in the body', () => {
    const sut = problemFromResponseBody(
      409,
      'application/problem+json',
      JSON.stringify({ status: 200, title: 'Conflict', code: 'tenant_exists' }),
    );
    expect(sut.status).toBe(409);
    expect(sut.code).toBe('tenant_exists');
  });

  it('maps a framework error body with a message list', () => {
    const sut = problemFromResponseBody(
      400,
      'application/json',
      JSON.stringify({
        statusCode: 400,
        message: ['email must be an email'],
        error: 'Bad Request',
      }),
    );
    expect(sut).toMatchObject({
      status: 400,
      title: 'Bad Request',
      errors: ['email must be an email'],
      detail: 'email must be an email',
    });
  });

  it('uses a short plain-text body as the detail', () => {
    const sut = problemFromResponseBody(502, 'text/plain', 'upstream connect error');
    expect(sut).toMatchObject({
      status: 502,
      title: 'Bad gateway',
      detail: 'upstream connect error',
      code: 'http_502',
    });
  });

  it.each([
    ['an HTML error page', 'text/html', '<html><body>502 Bad Gateway</body></html>'],
    ['an empty body', null, ''],
    ['broken JSON', 'application/json', '{"title":'],
    ['a JSON array', 'application/json', '["x"]'],
  ])('falls back to the status title for %s', (_label, type, text) => {
    const sut = problemFromResponseBody(503, type, text);
    expect(sut.title).toBe('Service unavailable');
    expect(sut.status).toBe(503);
    expect(sut.detail).toBeUndefined();
  });

  it('shortens a long text body', () => {
    const sut = problemFromResponseBody(500, 'text/plain', 'x'.repeat(1000));
    expect(sut.detail!.length).toBeLessThanOrEqual(301);
  });

  it('ignores non-string entries in errors', () => {
    const sut = problemFromResponseBody(
      400,
      'application/problem+json',
      JSON.stringify({ title: 'Bad', errors: ['a', 3, null, ' '] }),
    );
    expect(sut.errors).toEqual(['a']);
  });
});

describe('toProblemView', () => {
  it('shows an ApiError as its problem', () => {
    const err = new ApiError({
      type: 'about:blank',
      title: 'Forbidden',
      status: 403,
      code: 'forbidden',
      detail: 'not a member',
    });
    expect(toProblemView(err)).toEqual({
      status: 403,
      code: 'forbidden',
      title: 'Forbidden',
      detail: 'not a member',
    });
  });

  it('hides the details of anything else', () => {
    const sut = toProblemView(new Error('ECONNRESET at socket 10.0.0.3 password=hunter2'));
    expect(sut.status).toBe(500);
    expect(JSON.stringify(sut)).not.toContain('hunter2');
  });
});

describe('problemLines', () => {
  it('lists field errors under the title', () => {
    expect(problemLines(validationProblem(['Name is required.']))).toEqual({
      headline: 'Please correct the form',
      lines: ['Name is required.'],
    });
  });

  it('puts the detail under the title when there are no field errors', () => {
    expect(
      problemLines({
        status: 409,
        code: 'x',
        title: 'Conflict',
        detail: 'A tenant with this name exists.',
      }),
    ).toEqual({
      headline: 'Conflict',
      lines: ['A tenant with this name exists.'],
    });
    expect(problemLines({ status: 404, code: 'x', title: 'Not found' })).toEqual({
      headline: 'Not found',
      lines: [],
    });
    expect(
      problemLines({ status: 404, code: 'x', title: 'Not found', detail: 'Not found' }).lines,
    ).toEqual([]);
  });
});
