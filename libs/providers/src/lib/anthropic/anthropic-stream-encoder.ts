import type { ChatCompletionChunk } from '../openai/types';
import type { ChunkDelta } from '../adapters/chunks';
import type {
  AnthropicErrorBody,
  AnthropicStopReason,
  AnthropicStreamEvent,
} from './anthropic-types';
import {
  anthropicMessageId,
  anthropicUsageFromOpenAI,
  stopReasonFromOpenAI,
} from './anthropic-surface';

/** One Anthropic SSE event as on the wire (`event:` line, `data:` line, blank line). */
export function formatAnthropicEvent(e: AnthropicStreamEvent | AnthropicErrorBody): string {
  return `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
}

type OpenBlock = { kind: 'text'; index: number } | { kind: 'tool'; index: number; tool: number };

/**
 * Turns an OpenAI chunk stream (ask the upstream for `include_usage`) into Anthropic's event
 * stream: `message_start` (+ `ping`) on the first chunk, a text block per run of content, a
 * `tool_use` block per tool call with `input_json_delta`s, and on finish() the closing
 * `content_block_stop`, `message_delta` (stop reason and usage) and `message_stop`. Each method
 * returns the SSE text to write (possibly empty).
 */
export class AnthropicStreamEncoder {
  private started = false;
  private ended = false;
  private nextIndex = 0;
  private open: OpenBlock | null = null;
  /** OpenAI tool-call index → Anthropic block index */
  private readonly toolBlocks = new Map<number, number>();
  private stopReason: AnthropicStopReason = 'end_turn';
  private usage: unknown = null;

  /**
   * @param model the model name the client asked for
   * @param inputTokens the prompt estimate shown in `message_start` (the real count follows in
   *   `message_delta`, since OpenAI reports usage only at the end)
   */
  constructor(
    private readonly model: string,
    private readonly inputTokens = 0,
  ) {}

  push(chunk: ChatCompletionChunk): string {
    let out = this.start(chunk.id);
    if (chunk.usage) this.usage = chunk.usage;
    const choice = chunk.choices.find((c) => c.index === 0);
    if (!choice) return out;
    const delta = (choice.delta ?? {}) as ChunkDelta;
    if (typeof delta.content === 'string' && delta.content.length > 0) {
      if (this.open?.kind !== 'text')
        out += this.openBlock({ kind: 'text', index: this.nextIndex });
      out += formatAnthropicEvent({
        type: 'content_block_delta',
        index: this.open!.index,
        delta: { type: 'text_delta', text: delta.content },
      });
    }
    for (const call of delta.tool_calls ?? []) {
      let index = this.toolBlocks.get(call.index);
      if (index === undefined) {
        index = this.nextIndex;
        this.toolBlocks.set(call.index, index);
        out += this.openBlock(
          { kind: 'tool', index, tool: call.index },
          call.id,
          call.function?.name,
        );
      }
      const args = call.function?.arguments;
      if (args)
        out += formatAnthropicEvent({
          type: 'content_block_delta',
          index,
          delta: { type: 'input_json_delta', partial_json: args },
        });
    }
    if (choice.finish_reason) this.stopReason = stopReasonFromOpenAI(choice.finish_reason);
    return out;
  }

  /** The upstream ended properly: close the message. */
  finish(): string {
    if (this.ended) return '';
    let out = this.start('');
    out += this.closeBlock();
    this.ended = true;
    const u = anthropicUsageFromOpenAI(this.usage);
    out += formatAnthropicEvent({
      type: 'message_delta',
      delta: { stop_reason: this.stopReason, stop_sequence: null },
      usage: u,
    });
    return out + formatAnthropicEvent({ type: 'message_stop' });
  }

  /** The upstream failed mid-stream: Anthropic's `error` event ends the stream. */
  error(body: AnthropicErrorBody): string {
    if (this.ended) return '';
    this.ended = true;
    return formatAnthropicEvent(body);
  }

  private start(id: string): string {
    if (this.started) return '';
    this.started = true;
    return (
      formatAnthropicEvent({
        type: 'message_start',
        message: {
          id: anthropicMessageId(id),
          type: 'message',
          role: 'assistant',
          model: this.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: this.inputTokens, output_tokens: 0 },
        },
      }) + formatAnthropicEvent({ type: 'ping' })
    );
  }

  private openBlock(block: OpenBlock, id?: string, name?: string): string {
    const out = this.closeBlock();
    this.open = block;
    this.nextIndex = block.index + 1;
    return (
      out +
      formatAnthropicEvent({
        type: 'content_block_start',
        index: block.index,
        content_block:
          block.kind === 'text'
            ? { type: 'text', text: '' }
            : { type: 'tool_use', id: id ?? '', name: name ?? '', input: {} },
      })
    );
  }

  private closeBlock(): string {
    if (this.open === null) return '';
    const index = this.open.index;
    this.open = null;
    return formatAnthropicEvent({ type: 'content_block_stop', index });
  }
}
