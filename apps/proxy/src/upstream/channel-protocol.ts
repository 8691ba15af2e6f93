import {
  type ChatCompletionRequest,
  type EmbeddingsRequest,
  estimateChatPromptTokens,
  estimateCompletionTokens,
  estimateEmbeddingInputTokens,
  upstreamModelName,
} from '@tollgate/providers';
import type { RoutableChannel } from '../routing/channel-table';
import type { Exchange } from '../v1/exchange';
import { JsonRelay } from './json-relay';
import { SseRelay } from './sse-relay';
import type { AttemptObserver, RelayDeps } from './upstream-relay';

/** What a client asked for, independent of the channel that will serve it. */
export interface UpstreamCall<T> {
  ex: Exchange;
  deps: RelayDeps;
  /** the validated request */
  body: T;
  /** the body as received: forwarded as-is when nothing in it changes */
  raw: Buffer;
  /** client headers configured to pass through (`FORWARD_HEADER_PREFIXES`), or null */
  forwarded: Readonly<Record<string, string>> | null;
}

/**
 * The one place that knows, for a channel, how to build the upstream request and which relay
 * reads the answer. Each attempt of a request asks again, since a fallback may land on a channel
 * of another type. Every channel speaks OpenAI's wire format for now; the provider adapters
 * (Anthropic, Gemini, Azure) plug in at `protocolFor`.
 */
export interface ChannelProtocol {
  startChat(
    channel: RoutableChannel,
    call: UpstreamCall<ChatCompletionRequest>,
    observer: AttemptObserver,
  ): void;
  startEmbeddings(
    channel: RoutableChannel,
    call: UpstreamCall<EmbeddingsRequest>,
    observer: AttemptObserver,
  ): void;
}

function headers(
  channel: RoutableChannel,
  forwarded: Readonly<Record<string, string>> | null,
  stream: boolean,
): Record<string, string> {
  const out: Record<string, string> = {
    authorization: channel.authorization,
    'content-type': 'application/json',
    accept: stream ? 'text/event-stream' : 'application/json',
  };
  if (forwarded !== null) Object.assign(out, forwarded);
  if (channel.extraHeaders !== null) Object.assign(out, channel.extraHeaders);
  return out;
}

/** OpenAI and every OpenAI-compatible provider: the client's body, with the model mapped. */
const openAIProtocol: ChannelProtocol = {
  startChat(channel, call, observer) {
    const { ex, body } = call;
    const upstreamModel = upstreamModelName(channel.modelMapping, body.model);
    ex.upstreamModel = upstreamModel;
    const mapped = upstreamModel !== body.model;
    const publicModel = mapped ? body.model : null;
    const estimateInput = () => estimateChatPromptTokens(body);
    if (body.stream === true) {
      // always ask the provider for usage; the relay hides it from a client that did not ask
      const payload = JSON.stringify({
        ...body,
        model: upstreamModel,
        stream_options: { ...(body.stream_options ?? {}), include_usage: true },
      });
      new SseRelay(ex, call.deps, {
        exposeUsage: body.stream_options?.include_usage === true,
        publicModel,
        estimateInput,
      }).start(
        channel,
        '/chat/completions',
        payload,
        headers(channel, call.forwarded, true),
        observer,
      );
      return;
    }
    const payload = mapped ? JSON.stringify({ ...body, model: upstreamModel }) : call.raw;
    new JsonRelay(ex, call.deps, {
      publicModel,
      estimateInput,
      estimateOutput: estimateCompletionTokens,
    }).start(
      channel,
      '/chat/completions',
      payload,
      headers(channel, call.forwarded, false),
      observer,
    );
  },

  startEmbeddings(channel, call, observer) {
    const { ex, body } = call;
    const upstreamModel = upstreamModelName(channel.modelMapping, body.model);
    ex.upstreamModel = upstreamModel;
    const mapped = upstreamModel !== body.model;
    const payload = mapped ? JSON.stringify({ ...body, model: upstreamModel }) : call.raw;
    new JsonRelay(ex, call.deps, {
      publicModel: mapped ? body.model : null,
      estimateInput: () => estimateEmbeddingInputTokens(body.input),
      estimateOutput: () => 0,
    }).start(channel, '/embeddings', payload, headers(channel, call.forwarded, false), observer);
  },
};

export function protocolFor(_channel: RoutableChannel): ChannelProtocol {
  return openAIProtocol;
}
