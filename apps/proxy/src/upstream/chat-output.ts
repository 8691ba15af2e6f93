import {
  AnthropicStreamEncoder,
  anthropicMessageFromOpenAI,
  type ChatCompletion,
  type ChatCompletionChunk,
  formatChatChunks,
  formatSseEvent,
  OPENAI_DONE_EVENT,
} from '@tollgate/providers';
import { type ProxyError, toAnthropicError, toOpenAIError } from '../v1/proxy-error';

/**
 * How a chat answer (in OpenAI's terms, as the adapters produce it) is written for the client:
 * as an OpenAI chat completion / chunk stream, or as an Anthropic message / event stream. One
 * per attempt, since a stream encoder has state.
 */
export interface ChatOutput {
  /** the body of a non-streamed answer */
  json(completion: ChatCompletion): string;
  /** stream text for translated chunks (possibly empty) */
  chunks(chunks: readonly ChatCompletionChunk[]): string;
  /** the stream's proper end */
  end(): string;
  /** ends a started stream after a failure (the SDKs raise an error for it) */
  streamError(e: ProxyError): string;
}

/** OpenAI's chat format: chunks as they are, `[DONE]`, an `error` event on failure. */
export function openAIChatOutput(): ChatOutput {
  return {
    json: (completion) => JSON.stringify(completion),
    chunks: (chunks) => (chunks.length === 0 ? '' : formatChatChunks(chunks)),
    end: () => OPENAI_DONE_EVENT,
    streamError: (e) => formatSseEvent(JSON.stringify(toOpenAIError(e).body)),
  };
}

/**
 * Anthropic's Messages format for the `/v1/messages` surface. The upstream must be asked for
 * usage (`include_usage`): the closing `message_delta` reports it.
 * @param model the model name the client asked for
 * @param inputEstimate the prompt tokens shown in `message_start` (the real count comes last)
 */
export function anthropicChatOutput(model: string, inputEstimate: number): ChatOutput {
  const encoder = new AnthropicStreamEncoder(model, inputEstimate);
  return {
    json: (completion) => JSON.stringify(anthropicMessageFromOpenAI(completion, model)),
    chunks: (chunks) => {
      let out = '';
      for (const c of chunks) out += encoder.push(c);
      return out;
    },
    end: () => encoder.finish(),
    streamError: (e) => encoder.error(toAnthropicError(e).body),
  };
}
