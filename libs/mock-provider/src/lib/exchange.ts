import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Json } from './http';
import type { MockSettings } from './settings';
import type { StreamHooks } from './stream';

/** The wire formats the mock speaks. */
export type MockSurface = 'openai' | 'azure' | 'anthropic' | 'gemini';

/** One request the mock is answering, as the surfaces see it. */
export interface MockExchange {
  req: IncomingMessage;
  res: ServerResponse;
  body: Json;
  /** the model the request names (Azure: the deployment; Gemini: the path's model) */
  model: string;
  s: MockSettings;
  stream: boolean;
  nextId(prefix: string): string;
  /** counts an injected fault */
  fault(): void;
  hooks: StreamHooks;
}

/** A body cut off part-way: what `malformed_json` sends, on every surface. */
export const truncated = (body: string): string => body.slice(0, Math.floor(body.length * 0.6));

export const HTML_PAGE = '<html><body><h1>Welcome to nginx!</h1></body></html>';
