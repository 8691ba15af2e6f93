import { Injectable } from '@nestjs/common';
import { ProxyEndpoint } from '@tollgate/contracts';
import {
  estimateChatPromptTokens,
  estimateCompletionTokens,
  validateChatCompletionRequest,
} from '@tollgate/providers';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { JsonRelay } from '../upstream/json-relay';
import { SseRelay } from '../upstream/sse-relay';
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
      const { body, raw, route } = admitted;
      const mapped = route.upstreamModel !== body.model;
      const publicModel = mapped ? body.model : null;
      const estimateInput = () => estimateChatPromptTokens(body);
      const deps = this.pipeline.relayDeps;
      if (body.stream === true) {
        // always ask the provider for usage; the relay hides it from a client that did not ask
        const payload = JSON.stringify({
          ...body,
          model: route.upstreamModel,
          stream_options: { ...(body.stream_options ?? {}), include_usage: true },
        });
        const relay = new SseRelay(ex, deps, {
          exposeUsage: body.stream_options?.include_usage === true,
          publicModel,
          estimateInput,
        });
        relay.start(
          route.channel,
          '/chat/completions',
          payload,
          this.pipeline.upstreamHeaders(request, route.channel, true),
        );
        return;
      }
      const payload = mapped ? JSON.stringify({ ...body, model: route.upstreamModel }) : raw;
      const relay = new JsonRelay(ex, deps, {
        publicModel,
        estimateInput,
        estimateOutput: estimateCompletionTokens,
      });
      relay.start(
        route.channel,
        '/chat/completions',
        payload,
        this.pipeline.upstreamHeaders(request, route.channel, false),
      );
    } catch (err) {
      this.pipeline.crash(ex, err);
    }
  }
}
