import { Injectable } from '@nestjs/common';
import { ProxyEndpoint } from '@tollgate/contracts';
import {
  anthropicToOpenAIRequest,
  type ChatCompletionRequest,
  type Validated,
  validateChatCompletionRequest,
} from '@tollgate/providers';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RequestPipeline } from './request-pipeline';

/**
 * An Anthropic Messages body, validated and translated into the OpenAI chat request that is
 * routed (to a channel of any type); problems in Anthropic's wording.
 */
export function validateMessagesRequest(body: unknown): Validated<ChatCompletionRequest> {
  const r = anthropicToOpenAIRequest(body);
  if (!r.ok)
    return { ok: false, problem: { message: r.body.error.message, param: null, code: null } };
  return validateChatCompletionRequest(r.value);
}

/**
 * Anthropic's key header: the SDKs send `x-api-key`; a Bearer `Authorization` (also accepted)
 * wins when both are present.
 */
export function adoptAnthropicKey(request: FastifyRequest): void {
  const h = request.headers;
  const key = h['x-api-key'];
  if (typeof key === 'string' && key.length > 0 && !h.authorization)
    h.authorization = `Bearer ${key.trim()}`;
}

/**
 * `POST /v1/messages`, the Anthropic-compatible surface, streamed and not: routed like chat, the
 * answer and every error in Anthropic's format, metered as endpoint `messages`.
 */
@Injectable()
export class MessagesHandler {
  constructor(private readonly pipeline: RequestPipeline) {}

  handle(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    adoptAnthropicKey(request);
    return this.pipeline.serve(
      request,
      reply,
      ProxyEndpoint.Messages,
      validateMessagesRequest,
      (protocol, channel, call, observer) => protocol.startChat(channel, call, observer),
      'anthropic',
    );
  }
}
