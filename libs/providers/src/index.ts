export * from './lib/openai/types';
export * from './lib/openai/validation';
export * from './lib/openai/usage';
export * from './lib/openai/estimate';
export * from './lib/openai/model-name';
export * from './lib/openai/chat-stream';
export * from './lib/sse/sse-parser';
