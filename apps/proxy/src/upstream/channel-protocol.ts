import {
  AdapterRequestError,
  azureUrl,
  type ChatCompletionRequest,
  type CompletionRequest,
  type EmbeddingsRequest,
  estimateChatPromptTokens,
  estimateCompletionPromptTokens,
  estimateCompletionTokens,
  estimateEmbeddingInputTokens,
  estimateTextCompletionTokens,
  getAdapter,
  isProviderType,
  type ProviderAdapter,
  type UpstreamRequest,
  type UpstreamTarget,
  upstreamModelName,
} from '@tollgate/providers';
import { ProxyEndpoint } from '@tollgate/contracts';
import type { RoutableChannel } from '../routing/channel-table';
import type { Exchange } from '../v1/exchange';
import { ProxyError, ProxyErrorCode } from '../v1/proxy-error';
import { AdapterJsonRelay, AdapterSseRelay } from './adapter-relays';
import { anthropicChatOutput, type ChatOutput, openAIChatOutput } from './chat-output';
import { JsonRelay } from './json-relay';
import { SseRelay } from './sse-relay';
import type { AttemptObserver, RelayDeps } from './upstream-relay';

/** What a client asked for, independent of the channel that will serve it. */
export interface UpstreamCall<T> {
  ex: Exchange;
  deps: RelayDeps;
  /** the validated request (for `/v1/messages`: already translated to an OpenAI chat request) */
  body: T;
  /** the body as received: forwarded as-is when nothing in it changes */
  raw: Buffer;
  /** client headers configured to pass through (`FORWARD_HEADER_PREFIXES`), or null */
  forwarded: Readonly<Record<string, string>> | null;
}

/**
 * The one place that knows, for a channel, how to build the upstream request and which relay
 * reads the answer. Each attempt of a request asks again, since a fallback may land on a channel
 * of another type. OpenAI chat to an OpenAI-compatible channel takes the pass-through path (the
 * body forwarded, the stream filtered without parsing most events); every other pairing of
 * client surface (`ex.errorFormat`: OpenAI or Anthropic) and channel type (OpenAI, Azure,
 * Anthropic, Gemini) goes through the channel type's provider adapter.
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
  startCompletions(
    channel: RoutableChannel,
    call: UpstreamCall<CompletionRequest>,
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

/** The adapters' view of a channel, the model already mapped. */
function targetOf(channel: RoutableChannel, upstreamModel: string): UpstreamTarget {
  return {
    baseUrl: channel.origin + channel.basePath,
    apiKey: channel.apiKey ?? channel.authorization.replace(/^Bearer\s+/i, ''),
    upstreamModel,
    extraHeaders: channel.extraHeaders ?? undefined,
    apiVersion: channel.apiVersion ?? undefined,
  };
}

/** An adapter's request as the relay sends it: the path from the origin and all headers. */
function dispatchOf(
  channel: RoutableChannel,
  req: UpstreamRequest,
  forwarded: Readonly<Record<string, string>> | null,
  stream: boolean,
): { path: string; headers: Record<string, string> } {
  const path = req.url.startsWith(channel.origin) ? req.url.slice(channel.origin.length) : req.url;
  // the adapter's headers (credential, version, the channel's extra headers) win over forwarded ones
  const h: Record<string, string> =
    forwarded !== null ? { ...forwarded, ...req.headers } : { ...req.headers };
  h.accept = stream ? 'text/event-stream' : 'application/json';
  return { path, headers: h };
}

const unsupported = (channel: RoutableChannel, model: string, what: string, hint: string) =>
  new ProxyError(
    ProxyErrorCode.InvalidRequest,
    `The model \`${model}\` is served by a provider channel of type \`${channel.type}\`, which has no ${what}; ${hint}`,
    'model',
    'unsupported_endpoint',
  );

function chatOutput(call: UpstreamCall<ChatCompletionRequest>): ChatOutput {
  return call.ex.errorFormat === 'anthropic'
    ? anthropicChatOutput(call.body.model, estimateChatPromptTokens(call.body))
    : openAIChatOutput();
}

/** Chat through a provider adapter, the answer written in the client's format. */
function startAdapterChat(
  adapter: ProviderAdapter,
  channel: RoutableChannel,
  call: UpstreamCall<ChatCompletionRequest>,
  observer: AttemptObserver,
): void {
  const { ex, body } = call;
  const upstreamModel = upstreamModelName(channel.modelMapping, body.model);
  ex.upstreamModel = upstreamModel;
  const stream = body.stream === true;
  const options = {
    adapter,
    requestedModel: body.model,
    output: chatOutput(call),
    estimateInput: () => estimateChatPromptTokens(body),
  };
  const relay = stream
    ? new AdapterSseRelay(ex, call.deps, {
        ...options,
        includeUsage: body.stream_options?.include_usage === true,
      })
    : new AdapterJsonRelay(ex, call.deps, options);
  let req: UpstreamRequest;
  try {
    req = adapter.buildChatRequest(body, targetOf(channel, upstreamModel));
  } catch (err) {
    if (!(err instanceof AdapterRequestError)) throw err;
    relay.refuse(
      channel,
      new ProxyError(ProxyErrorCode.InvalidRequest, err.message, err.param, err.code),
      observer,
    );
    return;
  }
  const { path, headers: h } = dispatchOf(channel, req, call.forwarded, stream);
  relay.start(channel, path, req.body, h, observer, true);
}

/** OpenAI chat to an OpenAI-compatible channel: the client's body, with the model mapped. */
function startOpenAIChat(
  channel: RoutableChannel,
  call: UpstreamCall<ChatCompletionRequest>,
  observer: AttemptObserver,
): void {
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
}

function adapterOf(channel: RoutableChannel): ProviderAdapter {
  // an unknown type is read as OpenAI-compatible, the format most servers speak
  return getAdapter(isProviderType(channel.type) ? channel.type : 'openai');
}

const protocol: ChannelProtocol = {
  startChat(channel, call, observer) {
    const adapter = adapterOf(channel);
    if (adapter.type === 'openai' && call.ex.errorFormat === 'openai')
      startOpenAIChat(channel, call, observer);
    else startAdapterChat(adapter, channel, call, observer);
  },

  startEmbeddings(channel, call, observer) {
    const { ex, body } = call;
    const upstreamModel = upstreamModelName(channel.modelMapping, body.model);
    ex.upstreamModel = upstreamModel;
    const mapped = upstreamModel !== body.model;
    const relay = new JsonRelay(ex, call.deps, {
      publicModel: mapped ? body.model : null,
      estimateInput: () => estimateEmbeddingInputTokens(body.input),
      estimateOutput: () => 0,
    });
    const adapter = adapterOf(channel);
    if (adapter.type === 'openai') {
      const payload = mapped ? JSON.stringify({ ...body, model: upstreamModel }) : call.raw;
      relay.start(
        channel,
        '/embeddings',
        payload,
        headers(channel, call.forwarded, false),
        observer,
      );
      return;
    }
    if (adapter.buildEmbeddingsRequest === undefined) {
      relay.refuse(
        channel,
        unsupported(
          channel,
          body.model,
          'embeddings API',
          'route embeddings to an OpenAI or Azure channel.',
        ),
        observer,
      );
      return;
    }
    const req = adapter.buildEmbeddingsRequest(body, targetOf(channel, upstreamModel));
    const { path, headers: h } = dispatchOf(channel, req, call.forwarded, false);
    relay.start(channel, path, req.body, h, observer, true);
  },

  startCompletions(channel, call, observer) {
    const { ex, body } = call;
    const upstreamModel = upstreamModelName(channel.modelMapping, body.model);
    ex.upstreamModel = upstreamModel;
    const mapped = upstreamModel !== body.model;
    const stream = body.stream === true;
    const payload: Record<string, unknown> = { ...body, model: upstreamModel };
    // always ask for usage on a stream; the relay hides it from a client that did not ask
    if (stream) payload.stream_options = { ...(body.stream_options ?? {}), include_usage: true };
    const adapter = adapterOf(channel);
    const start = (p: string, hs: Record<string, string>, fromOrigin: boolean) => {
      if (stream)
        new SseRelay(ex, call.deps, {
          exposeUsage: body.stream_options?.include_usage === true,
          publicModel: mapped ? body.model : null,
          estimateInput: () => estimateCompletionPromptTokens(body.prompt),
        }).start(channel, p, JSON.stringify(payload), hs, observer, fromOrigin);
      else
        new JsonRelay(ex, call.deps, {
          publicModel: mapped ? body.model : null,
          estimateInput: () => estimateCompletionPromptTokens(body.prompt),
          estimateOutput: estimateTextCompletionTokens,
        }).start(channel, p, JSON.stringify(payload), hs, observer, fromOrigin);
    };
    switch (adapter.type) {
      case 'openai':
        start('/completions', headers(channel, call.forwarded, stream), false);
        return;
      case 'azure': {
        const target = targetOf(channel, upstreamModel);
        const url = azureUrl(target, 'completions');
        // a deployment URL names the model; the v1 API takes it in the body
        if (url.includes('/deployments/')) delete payload.model;
        const req: UpstreamRequest = {
          method: 'POST',
          url,
          headers: { 'content-type': 'application/json', 'api-key': target.apiKey },
          body: '',
        };
        if (target.extraHeaders) Object.assign(req.headers, target.extraHeaders);
        const d = dispatchOf(channel, req, call.forwarded, stream);
        start(d.path, d.headers, true);
        return;
      }
      case 'anthropic':
      case 'gemini':
        new JsonRelay(ex, call.deps, {
          publicModel: null,
          estimateInput: () => 0,
          estimateOutput: () => 0,
        }).refuse(
          channel,
          unsupported(
            channel,
            body.model,
            'text completions API',
            'use /v1/chat/completions (or /v1/messages) for this model.',
          ),
          observer,
        );
        return;
    }
  },
};

/**
 * Whether a channel has the API an endpoint needs (every type has chat; embeddings need an adapter
 * that builds them; text completions exist on OpenAI-compatible and Azure channels only). Routing
 * leaves the others out, so a model served by several types goes to one that can answer.
 */
export function channelOffers(channel: RoutableChannel, endpoint: ProxyEndpoint): boolean {
  switch (endpoint) {
    case ProxyEndpoint.Embeddings:
      return adapterOf(channel).buildEmbeddingsRequest !== undefined;
    case ProxyEndpoint.Completions: {
      const type = adapterOf(channel).type;
      return type === 'openai' || type === 'azure';
    }
    case ProxyEndpoint.ChatCompletions:
    case ProxyEndpoint.Messages:
      return true;
  }
}

export function protocolFor(_channel: RoutableChannel): ChannelProtocol {
  return protocol;
}
