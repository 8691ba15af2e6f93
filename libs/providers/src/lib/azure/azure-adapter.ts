import {
  OpenAIStreamTranslator,
  openAIChatBody,
  openAIStyleError,
  parseOpenAIChatResponse,
  parseOpenAIEmbeddingsResponse,
} from '../adapters/openai-adapter';
import type {
  ChatStreamOptions,
  ChatStreamTranslator,
  ProviderAdapter,
  ProviderError,
  UpstreamRequest,
  UpstreamTarget,
} from '../adapters/provider-adapter';
import { joinUrl, withExtraHeaders } from '../adapters/provider-errors';
import type { ChatCompletionRequest, EmbeddingsRequest } from '../openai/types';

/** The latest generally available dated `api-version` of Azure OpenAI inference. */
export const AZURE_DEFAULT_API_VERSION = '2024-10-21';

/**
 * The URL of an Azure OpenAI operation. Dated versions address a deployment
 * (`/openai/deployments/{deployment}/{operation}?api-version=…`); `v1` (or `preview`)
 * selects the v1 API (`/openai/v1/{operation}`), which takes the deployment as `model`.
 */
export function azureUrl(
  target: UpstreamTarget,
  operation: 'chat/completions' | 'completions' | 'embeddings',
): string {
  let base = joinUrl(target.baseUrl, '');
  if (base.endsWith('/openai/v1')) base = base.slice(0, -10);
  else if (base.endsWith('/openai')) base = base.slice(0, -7);
  const version = target.apiVersion || AZURE_DEFAULT_API_VERSION;
  if (isV1(version)) {
    const query = version === 'v1' ? '' : `?api-version=${encodeURIComponent(version)}`;
    return `${base}/openai/v1/${operation}${query}`;
  }
  return `${base}/openai/deployments/${encodeURIComponent(target.upstreamModel)}/${operation}?api-version=${encodeURIComponent(version)}`;
}

const isV1 = (version: string) => version === 'v1' || version === 'preview';

function azureHeaders(target: UpstreamTarget): Record<string, string> {
  return withExtraHeaders(
    { 'content-type': 'application/json', 'api-key': target.apiKey },
    target.extraHeaders,
  );
}

/** Azure OpenAI: the OpenAI format at deployment URLs, with the `api-key` header. */
export const azureAdapter: ProviderAdapter = {
  type: 'azure',

  buildChatRequest(req: ChatCompletionRequest, target: UpstreamTarget): UpstreamRequest {
    const v1 = isV1(target.apiVersion || AZURE_DEFAULT_API_VERSION);
    return {
      method: 'POST',
      url: azureUrl(target, 'chat/completions'),
      headers: azureHeaders(target),
      // the deployment in the URL names the model; the v1 API takes it in the body instead
      body: openAIChatBody(req, v1 ? target.upstreamModel : undefined),
    };
  },

  parseChatResponse: parseOpenAIChatResponse,

  parseErrorResponse(
    status: number,
    _contentType: string | undefined,
    bodyText: string,
  ): ProviderError {
    return openAIStyleError(status, bodyText);
  },

  createChatStreamTranslator(
    requestedModel: string,
    options: ChatStreamOptions,
  ): ChatStreamTranslator {
    // Azure opens a stream with a choice-less chunk of prompt filter results: clients need not see it
    return new OpenAIStreamTranslator(requestedModel, { ...options, dropEmptyChunks: true });
  },

  buildEmbeddingsRequest(req: EmbeddingsRequest, target: UpstreamTarget): UpstreamRequest {
    const v1 = isV1(target.apiVersion || AZURE_DEFAULT_API_VERSION);
    const body: Record<string, unknown> = { ...req };
    if (v1) body.model = target.upstreamModel;
    else delete body.model;
    return {
      method: 'POST',
      url: azureUrl(target, 'embeddings'),
      headers: azureHeaders(target),
      body: JSON.stringify(body),
    };
  },

  parseEmbeddingsResponse: parseOpenAIEmbeddingsResponse,
};
