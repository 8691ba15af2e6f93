/**
 * Recorded-shape fixtures: bodies in exactly the form api.openai.com sends them (field order,
 * `usage: null` on every chunk but the last when `include_usage` is on, the usage-only chunk with
 * empty `choices`, `data: [DONE]`). Only ids and text are made up. Used by the specs.
 */

export const CHAT_COMPLETION_JSON =
  '{"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion","created":1741569952,' +
  '"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I assist you today?",' +
  '"refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":19,"completion_tokens":10,' +
  '"total_tokens":29,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,' +
  '"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_fc9f1d7035"}';

const chunk = (choices: string, usage: string | null, includeUsage = true) =>
  '{"id":"chatcmpl-Aw5V1","object":"chat.completion.chunk","created":1738591251,"model":"gpt-4o-mini-2024-07-18",' +
  '"service_tier":"default","system_fingerprint":"fp_72ed7ab54c","choices":[' +
  choices +
  ']' +
  (includeUsage ? `,"usage":${usage ?? 'null'}` : '') +
  '}';

const STREAM_USAGE =
  '{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":4,"audio_tokens":0},' +
  '"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}';

/** The `data` of each event of a stream asked with `stream_options: {include_usage: true}`. */
export function chatStreamEvents(includeUsage = true): string[] {
  const events = [
    chunk(
      '{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}',
      null,
      includeUsage,
    ),
    chunk(
      '{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}',
      null,
      includeUsage,
    ),
    chunk(
      '{"index":0,"delta":{"content":" there"},"logprobs":null,"finish_reason":null}',
      null,
      includeUsage,
    ),
    chunk(
      '{"index":0,"delta":{"content":"!"},"logprobs":null,"finish_reason":null}',
      null,
      includeUsage,
    ),
    chunk('{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}', null, includeUsage),
  ];
  if (includeUsage) events.push(chunk('', STREAM_USAGE));
  events.push('[DONE]');
  return events;
}

/** The same stream as the bytes on the wire. */
export function chatStreamText(includeUsage = true): string {
  return chatStreamEvents(includeUsage)
    .map((d) => `data: ${d}\n\n`)
    .join('');
}

export const EMBEDDINGS_JSON =
  '{"object":"list","data":[{"object":"embedding","index":0,"embedding":[-0.006929283495992422,-0.005336422007530928,0.00047350498218461871]}],' +
  '"model":"text-embedding-3-small","usage":{"prompt_tokens":5,"total_tokens":5}}';
