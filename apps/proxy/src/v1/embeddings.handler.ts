import { Injectable } from '@nestjs/common';
import { ProxyEndpoint } from '@tollgate/contracts';
import { validateEmbeddingsRequest } from '@tollgate/providers';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RequestPipeline } from './request-pipeline';

/** `POST /v1/embeddings` (float and base64 answers pass through untouched unless the model is mapped). */
@Injectable()
export class EmbeddingsHandler {
  constructor(private readonly pipeline: RequestPipeline) {}

  handle(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    return this.pipeline.serve(
      request,
      reply,
      ProxyEndpoint.Embeddings,
      validateEmbeddingsRequest,
      (protocol, channel, call, observer) => protocol.startEmbeddings(channel, call, observer),
    );
  }
}
