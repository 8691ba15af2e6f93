import { SseParser } from '../sse/sse-parser';
import type { ChatCompletionChunk } from '../openai/types';
import type { ChatStreamTranslator } from './provider-adapter';

/**
 * Feeds a provider's stream bytes to a translator the way the network may deliver them: split
 * every `step` bytes (1 = byte by byte, through multi-byte characters and CRLF pairs).
 */
export function translateBytes(
  sut: ChatStreamTranslator,
  wire: string,
  step: number,
): ChatCompletionChunk[] {
  const bytes = Buffer.from(wire, 'utf8');
  const parser = new SseParser();
  const out: ChatCompletionChunk[] = [];
  for (let i = 0; i < bytes.length; i += step)
    for (const e of parser.feed(bytes.subarray(i, i + step))) out.push(...sut.push(e));
  for (const e of parser.end()) out.push(...sut.push(e));
  out.push(...sut.finish());
  return out;
}

export interface Assembled {
  role: string | undefined;
  content: string;
  reasoning: string;
  toolCalls: { id: string; name: string; arguments: string }[];
  finish: string | null;
  usage: ChatCompletionChunk['usage'];
  models: Set<string>;
}

/** What an OpenAI client makes of a chunk stream (choice 0). */
export function assemble(chunks: ChatCompletionChunk[]): Assembled {
  const a: Assembled = {
    role: undefined,
    content: '',
    reasoning: '',
    toolCalls: [],
    finish: null,
    usage: undefined,
    models: new Set(),
  };
  for (const c of chunks) {
    a.models.add(c.model);
    if (c.usage) a.usage = c.usage;
    const choice = c.choices.find((x) => x.index === 0);
    if (!choice) continue;
    const d = choice.delta as Record<string, unknown>;
    if (typeof d.role === 'string') a.role = d.role;
    if (typeof d.content === 'string') a.content += d.content;
    if (typeof d.reasoning_content === 'string') a.reasoning += d.reasoning_content;
    for (const tc of (d.tool_calls ?? []) as {
      index: number;
      id?: string;
      function?: { name?: string; arguments?: string };
    }[]) {
      const call = (a.toolCalls[tc.index] ??= { id: '', name: '', arguments: '' });
      if (tc.id) call.id = tc.id;
      if (tc.function?.name) call.name = tc.function.name;
      if (tc.function?.arguments) call.arguments += tc.function.arguments;
    }
    if (choice.finish_reason) a.finish = choice.finish_reason;
  }
  return a;
}

/** Steps to split a stream at: byte by byte, odd sizes, whole. */
export const SPLITS = [1, 3, 7, 64, 100_000];
