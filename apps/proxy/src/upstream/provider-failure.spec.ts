import {
  anthropicError,
  geminiError,
  malformedResponse,
  openAIStyleError,
} from '@tollgate/providers';
import { ProxyErrorCode, toOpenAIError } from '../v1/proxy-error';
import { providerFailure } from './upstream-relay';

const anthropicBody = (type: string) =>
  JSON.stringify({ type: 'error', error: { type, message: `${type} happened` } });

describe('providerFailure', () => {
  it('reads refused credentials as such (the router disables the channel), answering 502', () => {
    const sut = providerFailure(anthropicError(401, anthropicBody('authentication_error')), {});
    expect(sut.f).toEqual({ kind: 'credentials', status: 401, retryAfterMs: null });
    expect(toOpenAIError(sut.e)).toMatchObject({
      status: 502,
      body: { error: { code: 'upstream_auth_failed' } },
    });
  });

  it('reads Gemini API_KEY_INVALID (a 400) as refused credentials', () => {
    const body = JSON.stringify({
      error: {
        code: 400,
        message: 'API key not valid.',
        status: 'INVALID_ARGUMENT',
        details: [{ reason: 'API_KEY_INVALID' }],
      },
    });
    expect(providerFailure(geminiError(400, body), {}).f.kind).toBe('credentials');
  });

  it('keeps Retry-After of a 429 for the client and the cool-down', () => {
    const sut = providerFailure(anthropicError(429, anthropicBody('rate_limit_error')), {
      'retry-after': '7',
    });
    expect(sut.f).toEqual({ kind: 'rate_limited', status: 429, retryAfterMs: 7000 });
    expect(toOpenAIError(sut.e).status).toBe(429);
    expect(sut.e.headers).toEqual({ 'retry-after': '7' });
  });

  it('treats Anthropic overload (529) as a server failure worth another channel', () => {
    const sut = providerFailure(anthropicError(529, anthropicBody('overloaded_error')), {});
    expect(sut.f.kind).toBe('server');
    expect(sut.f.status).toBe(529);
    expect(sut.e.code).toBe(ProxyErrorCode.UpstreamFailed);
  });

  it('passes a request fault on with its status and does not retry it', () => {
    const sut = providerFailure(
      geminiError(
        400,
        JSON.stringify({ error: { code: 400, message: 'bad', status: 'INVALID_ARGUMENT' } }),
      ),
      {},
    );
    expect(sut.f.kind).toBe('rejected');
    expect(toOpenAIError(sut.e)).toMatchObject({
      status: 400,
      body: { error: { message: 'bad' } },
    });
  });

  it('marks a malformed answer as malformed', () => {
    const sut = providerFailure(malformedResponse('the body is not a JSON object', 200), {});
    expect(sut.f.kind).toBe('malformed');
    expect(toOpenAIError(sut.e).body.error.code).toBe('upstream_malformed_response');
  });

  it('answers 502 for an OpenAI-style 5xx', () => {
    const sut = providerFailure(openAIStyleError(500, '{"error":{"message":"boom"}}'), {});
    expect(sut.f.kind).toBe('server');
    expect(toOpenAIError(sut.e)).toMatchObject({ status: 502 });
    expect(sut.e.message).toContain('boom');
  });
});
