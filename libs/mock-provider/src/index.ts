export * from './lib/mock-provider';
export * from './lib/settings';
export { countWords, mockAnswer, mockEmbeddingTokens, mockPromptTokens } from './lib/wire';
