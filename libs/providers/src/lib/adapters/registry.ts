import { anthropicAdapter } from '../anthropic/anthropic-adapter';
import { azureAdapter } from '../azure/azure-adapter';
import { geminiAdapter } from '../gemini/gemini-adapter';
import { openAIAdapter } from './openai-adapter';
import type { ProviderAdapter, ProviderType } from './provider-adapter';

const ADAPTERS: Readonly<Record<ProviderType, ProviderAdapter>> = {
  openai: openAIAdapter,
  azure: azureAdapter,
  anthropic: anthropicAdapter,
  gemini: geminiAdapter,
};

export const isProviderType = (v: unknown): v is ProviderType =>
  typeof v === 'string' && Object.prototype.hasOwnProperty.call(ADAPTERS, v);

/** The adapter of a channel type (every OpenAI-compatible server is `openai`). */
export function getAdapter(type: ProviderType): ProviderAdapter {
  return ADAPTERS[type];
}
