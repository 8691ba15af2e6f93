export * from './lib/mock-provider';
export * from './lib/settings';
export {
  countWords,
  mockAnswer,
  mockAnthropicPromptTokens,
  mockCompletionPromptTokens,
  mockEmbeddingTokens,
  mockGeminiPromptTokens,
  mockPromptTokens,
  mockToolArguments,
  mockToolCallTokens,
} from './lib/wire';
