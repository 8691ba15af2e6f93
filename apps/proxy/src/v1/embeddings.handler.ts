import { Injectable } from '@nestjs/common';
import { ProxyEndpoint } from '@tollgate/contracts';
import { estimateEmbeddingInputTokens, validateEmbeddingsRequest } from '@tollgate/providers';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { JsonRelay } from '../upstream/json-relay';
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
      const { body, raw, route } = admitted;
      const mapped = route.upstreamModel !== body.model;
      const payload = mapped ? JSON.stringify({ ...body, model: route.upstreamModel }) : raw;
      const relay = new JsonRelay(ex, this.pipeline.relayDeps, {
        publicModel: mapped ? body.model : null,
        estimateInput: () => estimateEmbeddingInputTokens(body.input),
        estimateOutput: () => 0,
      });
      relay.start(
        route.channel,
        '/embeddings',
        payload,
        this.pipeline.upstreamHeaders(request, route.channel, false),
      );
    } catch (err) {
      this.pipeline.crash(ex, err);
    }
  }
}
