import { Injectable } from '@nestjs/common';
import { ProxyEndpoint } from '@tollgate/contracts';
import { type CompletionRequest, validateCompletionRequest } from '@tollgate/providers';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { protocolFor, type UpstreamCall } from '../upstream/channel-protocol';
import { RequestPipeline } from './request-pipeline';

/**
 * `POST /v1/completions` (legacy text completions), streamed and not. Only OpenAI-compatible
 * and Azure channels have it; a model served by another type gets a 400 saying so.
 */
@Injectable()
export class CompletionsHandler {
  constructor(private readonly pipeline: RequestPipeline) {}

  async handle(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const ex = this.pipeline.begin(request, reply, ProxyEndpoint.Completions);
    try {
      const admitted = await this.pipeline.admit(ex, request, validateCompletionRequest);
      if (admitted === null) return;
      const upstream: UpstreamCall<CompletionRequest> = {
        ex,
        deps: this.pipeline.relayDeps,
        body: admitted.body,
        raw: admitted.raw,
        forwarded: this.pipeline.forwardedHeaders(request),
      };
      admitted.call.run((channel, observer) =>
        protocolFor(channel).startCompletions(channel, upstream, observer),
      );
    } catch (err) {
      this.pipeline.crash(ex, err);
    }
  }
}
