import {
  errors,
  ProxyError,
  ProxyErrorCode,
  serializeError,
  toAnthropicError,
} from './proxy-error';

describe('toAnthropicError', () => {
  it.each([
    [errors.missingKey(), 401, 'authentication_error'],
    [errors.modelNotAllowed('m'), 403, 'permission_error'],
    [errors.modelNotFound('m'), 404, 'not_found_error'],
    [errors.malformedJson(), 400, 'invalid_request_error'],
    [errors.channelsRateLimited('m', 3), 429, 'rate_limit_error'],
    [errors.internal(), 500, 'api_error'],
    [errors.noHealthyChannel('m', 3), 503, 'overloaded_error'],
    [new ProxyError(ProxyErrorCode.UpstreamFailed, 'down'), 502, 'api_error'],
  ])('answers %o with %i %s', (e, status, type) => {
    const sut = toAnthropicError(e);
    expect(sut).toEqual({
      status,
      body: { type: 'error', error: { type, message: e.message } },
    });
  });

  it('keeps the status of a provider 4xx passed on', () => {
    const e = new ProxyError(ProxyErrorCode.UpstreamRejected, 'too long', null, null, 413);
    expect(toAnthropicError(e).status).toBe(413);
  });
});

describe('serializeError', () => {
  it('writes the body of the format asked for', () => {
    const e = errors.modelNotFound('m');
    expect(JSON.parse(serializeError(e, 'openai').json)).toMatchObject({
      error: { code: 'model_not_found' },
    });
    expect(JSON.parse(serializeError(e, 'anthropic').json)).toMatchObject({
      type: 'error',
      error: { type: 'not_found_error' },
    });
  });
});
