import type { OpenAIErrorBody } from '@tollgate/contracts';
import type { SseEvent } from '../sse/sse-parser';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  EmbeddingsRequest,
  EmbeddingsResponse,
  TokenUsage,
} from '../openai/types';

/**
 * Wire formats Tollgate can translate to. `openai` covers every OpenAI-compatible upstream
 * (OpenAI, DeepSeek, Groq, Mistral, Together, OpenRouter, vLLM, Ollama…), chosen by base URL.
 */
export type ProviderType = 'openai' | 'azure' | 'anthropic' | 'gemini';

export const PROVIDER_TYPES: readonly ProviderType[] = ['openai', 'azure', 'anthropic', 'gemini'];

/** Where one request goes: a channel's connection settings with the model already mapped. */
export interface UpstreamTarget {
  /**
   * The channel's base URL. OpenAI-compatible: up to the version (`https://api.openai.com/v1`);
   * Azure: the resource endpoint (`https://my-res.openai.azure.com`); Anthropic:
   * `https://api.anthropic.com` (a trailing `/v1` is accepted); Gemini:
   * `https://generativelanguage.googleapis.com` (a trailing `/v1beta` or `/v1` is kept).
   */
  baseUrl: string;
  /** the provider credential, decrypted */
  apiKey: string;
  /** the model name the provider knows (Azure: the deployment name) */
  upstreamModel: string;
  /** the channel's extra headers; applied last, so they may override the defaults */
  extraHeaders?: Readonly<Record<string, string>>;
  /** Azure `api-version` (default {@link AZURE_DEFAULT_API_VERSION}; `v1` selects the v1 API) */
  apiVersion?: string;
}

/** One HTTP request to send upstream. Header names are lower-case. */
export interface UpstreamRequest {
  method: 'POST';
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** A provider's failure in OpenAI's terms. */
export interface ProviderError {
  /** the status OpenAI would answer for the same condition (e.g. Anthropic 529 → 503) */
  status: number;
  body: OpenAIErrorBody;
  /** a transient fault (429, 5xx, overload, timeout, malformed answer): another attempt may succeed */
  retryable: boolean;
  /** the provider refused the channel's credentials: disable the channel, try the next one */
  credentialsRejected: boolean;
  /** the status the provider actually sent (200 for an error inside a stream or a malformed body) */
  upstreamStatus: number;
}

export type ChatResponseResult =
  { ok: ChatCompletion; usage: TokenUsage | null } | { error: ProviderError };

export type EmbeddingsResponseResult =
  { ok: EmbeddingsResponse; usage: TokenUsage | null } | { error: ProviderError };

export interface ChatStreamOptions {
  /** the client asked for `stream_options.include_usage`: end with a usage-only chunk */
  includeUsage: boolean;
}

/**
 * Turns one provider's stream, event by event, into OpenAI `chat.completion.chunk` objects.
 * Feed it every parsed SSE event (split anywhere by the network: use SseParser first), then call
 * finish() once the provider's body has ended. push() throws MalformedStreamError for an event
 * that is not the JSON it must be; an error the provider reports inside the stream is recorded
 * in `error` (and nothing is returned for it).
 */
export interface ChatStreamTranslator {
  push(event: SseEvent): ChatCompletionChunk[];
  /** the provider's body ended: whatever is still owed (e.g. the usage chunk) */
  finish(): ChatCompletionChunk[];
  /** usage as the provider reported it so far (input known early for Anthropic), else null */
  readonly usage: TokenUsage | null;
  /** the provider signalled a proper end (`[DONE]`, `message_stop`, a Gemini finishReason) */
  readonly complete: boolean;
  /** an error the provider sent inside the stream */
  readonly error: ProviderError | null;
  /** characters of text and tool arguments produced, for an estimate when usage never comes */
  readonly textChars: number;
}

/**
 * A request that cannot be expressed in the provider's format (e.g. `n: 2` for Anthropic, an
 * audio part for Anthropic, a tool result whose call is unknown for Gemini), or that is malformed
 * where the translation has to read it. The proxy answers 400 `invalid_request_error` with
 * `param` and `code`, in the caller's format.
 */
export class AdapterRequestError extends Error {
  constructor(
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = 'unsupported_parameter',
  ) {
    super(message);
    this.name = 'AdapterRequestError';
  }
}

/**
 * One provider wire format. Pure: builds requests and reads answers; the proxy does the I/O.
 * Methods that translate a request throw AdapterRequestError; the parsing methods never throw.
 */
export interface ProviderAdapter {
  readonly type: ProviderType;
  /** The upstream request for a (validated) OpenAI chat request; `req.stream` selects streaming. */
  buildChatRequest(req: ChatCompletionRequest, target: UpstreamTarget): UpstreamRequest;
  /**
   * Reads a non-streamed answer: a 2xx JSON body becomes an OpenAI `chat.completion` whose `model`
   * is `requestedModel`; anything else becomes a ProviderError.
   */
  parseChatResponse(
    status: number,
    contentType: string | undefined,
    bodyText: string,
    requestedModel: string,
  ): ChatResponseResult;
  /** Reads a non-2xx answer (streamed or not) into a ProviderError. */
  parseErrorResponse(
    status: number,
    contentType: string | undefined,
    bodyText: string,
  ): ProviderError;
  createChatStreamTranslator(
    requestedModel: string,
    options: ChatStreamOptions,
  ): ChatStreamTranslator;
  /** absent for providers without an embeddings API (Anthropic) */
  buildEmbeddingsRequest?(req: EmbeddingsRequest, target: UpstreamTarget): UpstreamRequest;
  /** reads an embeddings answer into OpenAI's shape; `req` is the client's request */
  parseEmbeddingsResponse?(
    status: number,
    contentType: string | undefined,
    bodyText: string,
    req: EmbeddingsRequest,
  ): EmbeddingsResponseResult;
}
