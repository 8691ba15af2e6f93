import { Inject, Injectable } from '@nestjs/common';
import { ProxyEndpoint } from '@tollgate/contracts';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PROXY_CONFIG, type ProxyConfig } from '../config/proxy.config';
import { ChatCompletionsHandler } from './chat-completions.handler';
import { CompletionsHandler } from './completions.handler';
import { EmbeddingsHandler } from './embeddings.handler';
import { adoptAnthropicKey, MessagesHandler } from './messages.handler';
import { ModelsHandler } from './models.handler';
import { errors, ProxyError, ProxyErrorCode, serializeError } from './proxy-error';
import { RequestPipeline } from './request-pipeline';

const ENDPOINT_BY_PATH: Record<string, ProxyEndpoint> = {
  '/v1/chat/completions': ProxyEndpoint.ChatCompletions,
  '/v1/embeddings': ProxyEndpoint.Embeddings,
  '/v1/completions': ProxyEndpoint.Completions,
  '/v1/messages': ProxyEndpoint.Messages,
};

/**
 * The /v1 surface, registered straight on Fastify (not through Nest's router) to keep the per-request
 * path short; the handlers are Nest providers, so dependency injection is unchanged. The scope
 * reads bodies as raw buffers (parsed by the handler, after authentication) and answers its own
 * framework errors and unknown URLs in OpenAI's error format (Anthropic's for `/v1/messages`).
 */
@Injectable()
export class V1Routes {
  constructor(
    @Inject(PROXY_CONFIG) private readonly config: ProxyConfig,
    private readonly chat: ChatCompletionsHandler,
    private readonly embeddings: EmbeddingsHandler,
    private readonly completions: CompletionsHandler,
    private readonly messages: MessagesHandler,
    private readonly models: ModelsHandler,
    private readonly pipeline: RequestPipeline,
  ) {}

  readonly plugin = async (scope: FastifyInstance): Promise<void> => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: this.config.MAX_BODY_BYTES },
      (_req, body, done) => done(null, body),
    );
    scope.setErrorHandler((err: FastifyError, request, reply) =>
      this.onFrameworkError(err, request, reply),
    );
    scope.setNotFoundHandler((request, reply) => {
      const path = (request.raw.url ?? '').split('?')[0];
      // under the Anthropic surface (e.g. `/v1/messages/count_tokens`) in Anthropic's format
      const { status, json } = serializeError(
        errors.unknownRoute(request.method, path),
        path.startsWith('/v1/messages') ? 'anthropic' : 'openai',
      );
      void reply.code(status).header('content-type', 'application/json').send(json);
    });
    scope.post('/chat/completions', (request, reply) => this.chat.handle(request, reply));
    scope.post('/embeddings', (request, reply) => this.embeddings.handle(request, reply));
    scope.post('/completions', (request, reply) => this.completions.handle(request, reply));
    scope.post('/messages', (request, reply) => this.messages.handle(request, reply));
    scope.get('/models', (request, reply) => this.models.list(request, reply));
    scope.get<{ Params: { '*': string } }>('/models/*', (request, reply) =>
      this.models.retrieve(request, reply),
    );
  };

  /** Errors Fastify raises before a handler runs (body too large, broken framing). */
  private async onFrameworkError(
    err: FastifyError,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<void> {
    if (reply.sent || reply.raw.headersSent) return;
    const status = err.statusCode ?? 500;
    const e: ProxyError =
      status === 413
        ? errors.bodyTooLarge(this.config.MAX_BODY_BYTES)
        : status >= 400 && status < 500
          ? new ProxyError(ProxyErrorCode.InvalidRequest, err.message, null, err.code ?? null)
          : errors.internal();
    const endpoint = ENDPOINT_BY_PATH[(request.raw.url ?? '').split('?')[0]];
    const ex = this.pipeline.begin(request, reply, endpoint ?? ProxyEndpoint.ChatCompletions);
    if (endpoint === ProxyEndpoint.Messages) {
      ex.errorFormat = 'anthropic';
      adoptAnthropicKey(request);
    }
    if (endpoint !== undefined) {
      // meter the refusal when the caller's key is known
      try {
        const pending = this.pipeline.auth.authenticate(request.headers.authorization);
        const auth = pending instanceof Promise ? await pending : pending;
        ex.key = auth.key;
      } catch {
        ex.key = null;
      }
    }
    ex.reject(e);
  }
}
