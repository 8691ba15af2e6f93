import { Injectable } from '@nestjs/common';
import { ProxyEndpoint } from '@tollgate/contracts';
import { type ChatCompletionRequest, validateChatCompletionRequest } from '@tollgate/providers';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { protocolFor, type UpstreamCall } from '../upstream/channel-protocol';
import { RequestPipeline } from './request-pipeline';

/** `POST /v1/chat/completions`, streamed and not. */
@Injectable()
export class ChatCompletionsHandler {
  constructor(private readonly pipeline: RequestPipeline) {}

  async handle(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const ex = this.pipeline.begin(request, reply, ProxyEndpoint.ChatCompletions);
    try {
      const admitted = await this.pipeline.admit(ex, request, validateChatCompletionRequest);
      if (admitted === null) return;
      const upstream: UpstreamCall<ChatCompletionRequest> = {
        ex,
        deps: this.pipeline.relayDeps,
        body: admitted.body,
        raw: admitted.raw,
        forwarded: this.pipeline.forwardedHeaders(request),
      };
      admitted.call.run((channel, observer) =>
        protocolFor(channel).startChat(channel, upstream, observer),
      );
    } catch (err) {
      this.pipeline.crash(ex, err);
    }
  }
}
