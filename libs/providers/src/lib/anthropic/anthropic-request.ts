import {
  type FunctionTool,
  imageUrlOf,
  isObject,
  type Json,
  parseDataUrl,
  parseToolArguments,
  partsOf,
  readMaxTokens,
  readResponseFormat,
  readStop,
  readToolChoice,
  readTools,
  rejectLegacyFunctions,
  type ResponseFormat,
} from '../adapters/openai-request';
import { AdapterRequestError } from '../adapters/provider-adapter';
import type { ChatCompletionRequest, ChatContentPart, ChatMessage } from '../openai/types';
import type {
  AnthropicCacheControl,
  AnthropicContentBlock,
  AnthropicDocumentBlock,
  AnthropicImageBlock,
  AnthropicMessageParam,
  AnthropicMessagesRequest,
  AnthropicTextBlock,
  AnthropicTool,
  AnthropicToolChoice,
  AnthropicToolResultBlock,
} from './anthropic-types';

/** Anthropic requires `max_tokens`; this is used when the client gave none (every model allows it). */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4096;

/**
 * JSON mode on Anthropic: when the request has no tools of its own, `response_format` becomes one
 * forced tool with this name whose input schema is the requested schema (`{type: 'object'}` for
 * `json_object`); the answer's tool input is handed back as the message text. With tools of its
 * own (or a schema whose root is not an object) the format is asked for in the system prompt.
 */
export const ANTHROPIC_JSON_TOOL_NAME = 'tollgate_json_response';

const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

/** Anthropic tool ids must match `^[a-zA-Z0-9_-]+$`; other providers' ids may not. */
export const anthropicToolId = (id: string): string => id.replace(/[^a-zA-Z0-9_-]/g, '_');

function cacheControlOf(part: Json): AnthropicCacheControl | undefined {
  const cc = part.cache_control;
  return isObject(cc) && cc.type === 'ephemeral'
    ? (cc as unknown as AnthropicCacheControl)
    : undefined;
}

function textBlock(text: string, part?: Json): AnthropicTextBlock {
  const block: AnthropicTextBlock = { type: 'text', text };
  const cc = part && cacheControlOf(part);
  if (cc) block.cache_control = cc;
  return block;
}

function imageBlock(part: ChatContentPart, param: string): AnthropicImageBlock {
  const url = imageUrlOf(part, param);
  const data = parseDataUrl(url);
  if (data) {
    if (!IMAGE_TYPES.has(data.mediaType))
      throw new AdapterRequestError(
        `Image type ${data.mediaType} is not supported by this provider (jpeg, png, gif and webp are).`,
        `${param}.image_url.url`,
        'invalid_image_format',
      );
    return {
      type: 'image',
      source: { type: 'base64', media_type: data.mediaType, data: data.base64 },
    };
  }
  if (url.startsWith('data:'))
    throw new AdapterRequestError(
      'An image data URL must be base64-encoded.',
      `${param}.image_url.url`,
      'invalid_image_url',
    );
  return { type: 'image', source: { type: 'url', url } };
}

function documentBlock(part: ChatContentPart, param: string): AnthropicDocumentBlock {
  const file = part.file;
  const fileData = isObject(file) ? file.file_data : undefined;
  const data = typeof fileData === 'string' ? parseDataUrl(fileData) : null;
  if (!data)
    throw new AdapterRequestError(
      'Only files given inline as a base64 data URL (file.file_data) can be sent to this provider.',
      `${param}.file`,
    );
  if (data.mediaType === 'text/plain')
    return {
      type: 'document',
      source: {
        type: 'text',
        media_type: 'text/plain',
        data: Buffer.from(data.base64, 'base64').toString('utf8'),
      },
    };
  if (data.mediaType !== 'application/pdf')
    throw new AdapterRequestError(
      `File type ${data.mediaType} is not supported by this provider (PDF and plain text are).`,
      `${param}.file`,
    );
  const block: AnthropicDocumentBlock = {
    type: 'document',
    source: { type: 'base64', media_type: data.mediaType, data: data.base64 },
  };
  if (isObject(file) && typeof file.filename === 'string') block.title = file.filename;
  return block;
}

/** The blocks of a user (or tool result) content. */
function userBlocks(
  content: ChatMessage['content'],
  param: string,
): (AnthropicTextBlock | AnthropicImageBlock | AnthropicDocumentBlock)[] {
  if (typeof content === 'string') return content.length > 0 ? [textBlock(content)] : [];
  const blocks: (AnthropicTextBlock | AnthropicImageBlock | AnthropicDocumentBlock)[] = [];
  partsOf(content).forEach((part, j) => {
    const p = `${param}[${j}]`;
    switch (part.type) {
      case 'text':
        if (typeof part.text === 'string' && part.text.length > 0)
          blocks.push(textBlock(part.text, part));
        break;
      case 'image_url':
        blocks.push(imageBlock(part, p));
        break;
      case 'file':
        blocks.push(documentBlock(part, p));
        break;
      default:
        throw new AdapterRequestError(
          `Content parts of type '${part.type}' are not supported by this provider.`,
          `${p}.type`,
        );
    }
  });
  return blocks;
}

function assistantBlocks(m: ChatMessage, i: number): AnthropicContentBlock[] {
  const blocks: AnthropicContentBlock[] = [];
  for (const part of partsOf(m.content)) {
    const text = part.type === 'refusal' ? part.refusal : part.text;
    if (typeof text === 'string' && text.length > 0) blocks.push(textBlock(text, part));
  }
  (m.tool_calls ?? []).forEach((call, j) => {
    const p = `messages[${i}].tool_calls[${j}]`;
    if (
      !isObject(call) ||
      typeof call.id !== 'string' ||
      !isObject(call.function) ||
      typeof call.function.name !== 'string'
    )
      throw new AdapterRequestError(
        `'${p}' must have an id and a function name.`,
        p,
        'invalid_value',
      );
    blocks.push({
      type: 'tool_use',
      id: anthropicToolId(call.id),
      name: call.function.name,
      input: parseToolArguments(call.function.arguments, `${p}.function.arguments`),
    });
  });
  return blocks;
}

function toolResultBlock(m: ChatMessage, i: number): AnthropicToolResultBlock {
  const content = userBlocks(m.content, `messages[${i}].content`).filter(
    (b) => b.type !== 'document',
  );
  if (typeof m.tool_call_id !== 'string' || m.tool_call_id.length === 0)
    throw new AdapterRequestError(
      `Missing required parameter: 'messages[${i}].tool_call_id'.`,
      `messages[${i}].tool_call_id`,
      'missing_required_parameter',
    );
  const block: AnthropicToolResultBlock = {
    type: 'tool_result',
    tool_use_id: anthropicToolId(m.tool_call_id),
  };
  // a plain text result stays a string, as Anthropic's own examples send it
  if (content.length === 1 && content[0].type === 'text' && !content[0].cache_control)
    block.content = content[0].text;
  else if (content.length > 0) block.content = content;
  return block;
}

function push(
  messages: AnthropicMessageParam[],
  role: 'user' | 'assistant',
  blocks: AnthropicContentBlock[],
): void {
  // Anthropic refuses a turn without content (e.g. an assistant message with empty text)
  if (blocks.length === 0) return;
  const last = messages[messages.length - 1];
  // Anthropic wants user and assistant turns to alternate: consecutive ones are merged
  if (last && last.role === role) (last.content as AnthropicContentBlock[]).push(...blocks);
  else messages.push({ role, content: blocks });
}

function toolsOf(tools: FunctionTool[], req: ChatCompletionRequest): AnthropicTool[] {
  const raw = Array.isArray(req.tools) ? (req.tools as unknown[]) : [];
  return tools.map((t, i) => {
    const tool: AnthropicTool = {
      name: t.name,
      input_schema: t.parameters ?? { type: 'object', properties: {} },
    };
    if (t.description !== undefined) tool.description = t.description;
    const cc = isObject(raw[i]) ? cacheControlOf(raw[i] as Json) : undefined;
    if (cc) tool.cache_control = cc;
    return tool;
  });
}

function jsonInstruction(format: Exclude<ResponseFormat, { kind: 'text' }>): string {
  return format.kind === 'json_schema'
    ? `Respond only with a JSON value that conforms to this JSON Schema, with no other text and no code fences:\n${JSON.stringify(format.schema)}`
    : 'Respond only with a valid JSON object, with no other text and no code fences.';
}

/**
 * An OpenAI chat request as an Anthropic Messages request. System and developer messages become
 * `system`; tool results become `tool_result` blocks of a user turn; consecutive turns of one role
 * are merged; `temperature` is clamped to Anthropic's 0–1. Throws AdapterRequestError.
 */
export function toAnthropicRequest(
  req: ChatCompletionRequest,
  upstreamModel: string,
): AnthropicMessagesRequest {
  rejectLegacyFunctions(req);
  if (typeof req.n === 'number' && req.n > 1)
    throw new AdapterRequestError(
      'This provider returns one choice per request; n must be 1.',
      'n',
      'invalid_value',
    );
  const system: AnthropicTextBlock[] = [];
  const messages: AnthropicMessageParam[] = [];
  req.messages.forEach((m, i) => {
    switch (m.role) {
      case 'system':
      case 'developer':
        for (const part of partsOf(m.content))
          if (typeof part.text === 'string' && part.text.length > 0)
            system.push(textBlock(part.text, part));
        break;
      case 'user':
        push(messages, 'user', userBlocks(m.content, `messages[${i}].content`));
        break;
      case 'assistant':
        push(messages, 'assistant', assistantBlocks(m, i));
        break;
      case 'tool':
        push(messages, 'user', [toolResultBlock(m, i)]);
        break;
      case 'function':
        break; // rejected above
    }
  });

  const tools = readTools(req);
  const body: AnthropicMessagesRequest = {
    model: upstreamModel,
    max_tokens: readMaxTokens(req) ?? ANTHROPIC_DEFAULT_MAX_TOKENS,
    messages,
  };
  const format = readResponseFormat(req);
  let toolChoice: AnthropicToolChoice | null = null;
  const anthropicTools = toolsOf(tools, req);
  if (format.kind !== 'text') {
    const schema: Json = format.kind === 'json_schema' ? format.schema : { type: 'object' };
    if (tools.length === 0 && (schema.type === 'object' || schema.type === undefined)) {
      anthropicTools.push({
        name: ANTHROPIC_JSON_TOOL_NAME,
        description: 'Give your complete answer as the input of this tool.',
        input_schema: { ...schema, type: 'object' },
      });
      toolChoice = { type: 'tool', name: ANTHROPIC_JSON_TOOL_NAME };
    } else system.push(textBlock(jsonInstruction(format)));
  }
  if (system.length > 0)
    body.system = system.some((b) => b.cache_control)
      ? system
      : system.map((b) => b.text).join('\n\n');
  if (anthropicTools.length > 0) body.tools = anthropicTools;

  const choice = readToolChoice(req);
  if (toolChoice === null && choice !== null && tools.length > 0) {
    switch (choice.kind) {
      case 'auto':
        toolChoice = { type: 'auto' };
        break;
      case 'none':
        toolChoice = { type: 'none' };
        break;
      case 'required':
        toolChoice = { type: 'any' };
        break;
      case 'function':
        toolChoice = { type: 'tool', name: choice.name };
        break;
    }
  }
  if (req.parallel_tool_calls === false && tools.length > 0) {
    toolChoice = toolChoice ?? { type: 'auto' };
    if (toolChoice.type !== 'none') toolChoice.disable_parallel_tool_use = true;
  }
  if (toolChoice !== null) body.tool_choice = toolChoice;

  const stop = readStop(req);
  if (stop.length > 0) body.stop_sequences = stop;
  if (typeof req.temperature === 'number')
    body.temperature = Math.min(1, Math.max(0, req.temperature));
  if (typeof req.top_p === 'number') body.top_p = req.top_p;
  if (typeof req.user === 'string' && req.user.length > 0) body.metadata = { user_id: req.user };
  if (req.stream === true) body.stream = true;
  return body;
}
