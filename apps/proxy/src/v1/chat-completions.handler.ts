import { Injectable } from '@nestjs/common';
import { ProxyEndpoint } from '@tollgate/contracts';
import { validateChatCompletionRequest } from '@tollgate/providers';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RequestPipeline } from './request-pipeline';

/** `POST /v1/chat/completions`, streamed and not. */
@Injectable()
export class ChatCompletionsHandler {
  constructor(private readonly pipeline: RequestPipeline) {}

  handle(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    return this.pipeline.serve(
      request,
      reply,
      ProxyEndpoint.ChatCompletions,
      validateChatCompletionRequest,
      (protocol, channel, call, observer) => protocol.startChat(channel, call, observer),
    );
  }
}
