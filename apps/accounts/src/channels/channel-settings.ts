import { createHash } from 'node:crypto';
import { ChannelType } from '@tollgate/contracts';

/** The connection settings of a channel that depend on each other. */
export interface ChannelSettings {
  type: ChannelType;
  apiVersion: string | null;
  connectTimeoutMs: number | null;
  firstByteTimeoutMs: number | null;
  totalTimeoutMs: number | null;
}

/** Header names lower-cased (HTTP names are case-insensitive; the proxy sends them lower-case). */
export function normaliseExtraHeaders(
  headers: Record<string, string> | null | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) out[name.toLowerCase()] = value;
  return out;
}

/**
 * Problems of the settings taken together (each field alone is checked by the request DTO);
 * empty when they are consistent.
 */
export function channelSettingsProblems(s: ChannelSettings): string[] {
  const problems: string[] = [];
  if (s.type === ChannelType.Azure && !s.apiVersion)
    problems.push('apiVersion is required for azure channels (e.g. "2024-10-21")');
  if (s.type !== ChannelType.Azure && s.apiVersion)
    problems.push('apiVersion applies to azure channels only');
  if (s.totalTimeoutMs !== null) {
    if (s.firstByteTimeoutMs !== null && s.firstByteTimeoutMs > s.totalTimeoutMs)
      problems.push('firstByteTimeoutMs must not exceed totalTimeoutMs');
    if (s.connectTimeoutMs !== null && s.connectTimeoutMs > s.totalTimeoutMs)
      problems.push('connectTimeoutMs must not exceed totalTimeoutMs');
  }
  return problems;
}

/**
 * The proxy's fingerprint of a channel credential: base64url sha256 of the sealed credential,
 * first 16 characters (apps/proxy/src/routing/channel-registry.ts computes the same). Sealing
 * uses a fresh nonce, so a replaced key always has a new fingerprint, even for the same text.
 */
export function credentialFingerprint(encryptedApiKey: string): string {
  return createHash('sha256').update(encryptedApiKey).digest('base64url').slice(0, 16);
}
