import { Injectable } from '@nestjs/common';
import { ProxyEndpoint } from '@tollgate/contracts';
import { validateCompletionRequest } from '@tollgate/providers';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RequestPipeline } from './request-pipeline';

/**
 * `POST /v1/completions` (legacy text completions), streamed and not. Only OpenAI-compatible
 * and Azure channels have it; a model served by another type gets a 400 saying so.
 */
@Injectable()
export class CompletionsHandler {
  constructor(private readonly pipeline: RequestPipeline) {}

  handle(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    return this.pipeline.serve(
      request,
      reply,
      ProxyEndpoint.Completions,
      validateCompletionRequest,
      (protocol, channel, call, observer) => protocol.startCompletions(channel, call, observer),
    );
  }
}
