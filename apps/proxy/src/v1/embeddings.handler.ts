import { Injectable } from '@nestjs/common';
import { ProxyEndpoint } from '@tollgate/contracts';
import { type EmbeddingsRequest, validateEmbeddingsRequest } from '@tollgate/providers';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { protocolFor, type UpstreamCall } from '../upstream/channel-protocol';
import { RequestPipeline } from './request-pipeline';

/** `POST /v1/embeddings` (float and base64 answers pass through untouched unless the model is mapped). */
@Injectable()
export class EmbeddingsHandler {
  constructor(private readonly pipeline: RequestPipeline) {}

  async handle(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const ex = this.pipeline.begin(request, reply, ProxyEndpoint.Embeddings);
    try {
      const admitted = await this.pipeline.admit(ex, request, validateEmbeddingsRequest);
      if (admitted === null) return;
      const upstream: UpstreamCall<EmbeddingsRequest> = {
        ex,
        deps: this.pipeline.relayDeps,
        body: admitted.body,
        raw: admitted.raw,
        forwarded: this.pipeline.forwardedHeaders(request),
      };
      admitted.call.run((channel, observer) =>
        protocolFor(channel).startEmbeddings(channel, upstream, observer),
      );
    } catch (err) {
      this.pipeline.crash(ex, err);
    }
  }
}
