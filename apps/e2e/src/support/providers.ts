import type { IncomingHttpHeaders } from 'node:http';
import type { ChannelResponseDto, ChannelType } from '@tollgate/contracts';
import { expectStatus, type TollgateApi } from './api';

/** `POST /api/v1/admin/channels` for a channel of any provider type (platform admin). */
export interface ChannelSpec {
  name: string;
  type: `${ChannelType}`;
  baseUrl: string;
  apiKey: string;
  models: string[];
  modelMapping?: Record<string, string>;
  priority?: number;
  weight?: number;
  groups?: string[];
  /** required for `azure`, refused for the other types */
  apiVersion?: string;
  extraHeaders?: Record<string, string>;
  connectTimeoutMs?: number;
  firstByteTimeoutMs?: number;
  totalTimeoutMs?: number;
}

export async function createProviderChannel(
  api: TollgateApi,
  adminToken: string,
  spec: ChannelSpec,
): Promise<ChannelResponseDto> {
  const res = await api.accounts<ChannelResponseDto>('POST', '/admin/channels', {
    token: adminToken,
    body: spec,
  });
  return expectStatus(res, 201, `create ${spec.type} channel ${spec.name}`);
}

/** What the mock provider saw for one model name (its `GET /__stats` → `byModel`). */
export interface MockModelSeen {
  requests: number;
  chat: number;
  chatStream: number;
  completions: number;
  faults: number;
  lastHeaders: IncomingHttpHeaders;
  /** path and query of the last request */
  lastPath: string;
  lastBody: unknown;
}

/** The mock provider's control routes, as a test drives a running mock process. */
export class MockControl {
  constructor(private readonly mockUrl: string) {}

  /** `POST /__config`: top-level settings become the runtime defaults. */
  async configure(update: Record<string, unknown>): Promise<void> {
    const res = await fetch(`${this.mockUrl}/__config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(update),
      signal: AbortSignal.timeout(5_000),
    });
    if (res.status !== 200)
      throw new Error(`mock /__config: HTTP ${res.status} ${await res.text()}`);
    await res.arrayBuffer().catch(() => undefined);
  }

  async byModel(): Promise<Record<string, MockModelSeen>> {
    const res = await fetch(`${this.mockUrl}/__stats`, { signal: AbortSignal.timeout(5_000) });
    if (res.status !== 200) throw new Error(`mock /__stats: HTTP ${res.status}`);
    const stats = (await res.json()) as { byModel?: Record<string, MockModelSeen> };
    return stats.byModel ?? {};
  }

  /** The requests the mock has received for `model` so far (0 when none). */
  async requestsFor(model: string): Promise<number> {
    return (await this.byModel())[model]?.requests ?? 0;
  }

  /**
   * What the mock saw for `model`, failing unless exactly one request for it arrived since it had
   * `before` (no retry, no second attempt).
   */
  async oneMoreRequest(model: string, before: number, what: string): Promise<MockModelSeen> {
    const seen = (await this.byModel())[model];
    const got = (seen?.requests ?? 0) - before;
    if (got !== 1 || !seen)
      throw new Error(`${what}: expected 1 request to the mock for ${model}, it got ${got}`);
    return seen;
  }
}
