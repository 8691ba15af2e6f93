import type {
  ChannelResponseDto,
  CreatedApiKeyResponseDto,
  Page,
  PriceResponseDto,
  SignupResponseDto,
  TenantResponseDto,
  TokenPairResponseDto,
  UsageRecordResponseDto,
} from '@tollgate/contracts';

/** One HTTP exchange with a management API, body parsed when it is JSON. */
export interface HttpResult<T = unknown> {
  status: number;
  contentType: string;
  body: T;
  text: string;
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export async function call<T = unknown>(
  method: string,
  url: string,
  opts: CallOptions = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let payload: string | undefined;
  if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(opts.body);
  }
  const res = await fetch(url, {
    method,
    headers,
    body: payload,
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  const contentType = res.headers.get('content-type') ?? '';
  let body: unknown = text;
  if (/json/.test(contentType) && text) body = JSON.parse(text);
  return { status: res.status, contentType, body: body as T, text };
}

/** Returns the body when the status is the expected one; otherwise fails with what came back. */
export function expectStatus<T>(res: HttpResult<T>, status: number, what: string): T {
  if (res.status !== status) {
    throw new Error(
      `${what}: expected HTTP ${status}, got ${res.status}: ${res.text.slice(0, 1000)}`,
    );
  }
  return res.body;
}

/** Typed calls to the accounts and billing management APIs, exactly as a client would make them. */
export class TollgateApi {
  constructor(
    private readonly accountsUrl: string,
    private readonly billingUrl: string,
  ) {}

  accounts<T = unknown>(method: string, path: string, opts?: CallOptions): Promise<HttpResult<T>> {
    return call<T>(method, `${this.accountsUrl}/api/v1${path}`, opts);
  }

  billing<T = unknown>(method: string, path: string, opts?: CallOptions): Promise<HttpResult<T>> {
    return call<T>(method, `${this.billingUrl}/api/v1${path}`, opts);
  }

  async signup(
    email: string,
    password: string,
    organisationName: string,
  ): Promise<SignupResponseDto> {
    const res = await this.accounts<SignupResponseDto>('POST', '/auth/signup', {
      body: { email, password, organisationName },
    });
    return expectStatus(res, 201, 'signup');
  }

  async login(email: string, password: string): Promise<TokenPairResponseDto> {
    const res = await this.accounts<TokenPairResponseDto>('POST', '/auth/login', {
      body: { email, password },
    });
    return expectStatus(res, 200, 'login');
  }

  async createTenant(
    token: string,
    orgId: string,
    name: string,
    group?: string,
  ): Promise<TenantResponseDto> {
    const res = await this.accounts<TenantResponseDto>('POST', `/orgs/${orgId}/tenants`, {
      token,
      body: group ? { name, group } : { name },
    });
    return expectStatus(res, 201, 'create tenant');
  }

  async createKey(
    token: string,
    tenantId: string,
    body: { name: string; models?: string[]; expiresAt?: string },
  ): Promise<CreatedApiKeyResponseDto> {
    const res = await this.accounts<CreatedApiKeyResponseDto>('POST', `/tenants/${tenantId}/keys`, {
      token,
      body,
    });
    return expectStatus(res, 201, 'create key');
  }

  async revokeKey(token: string, keyId: string): Promise<void> {
    const res = await this.accounts('DELETE', `/keys/${keyId}`, { token });
    expectStatus(res, 204, 'revoke key');
  }

  async createChannel(
    token: string,
    body: {
      name: string;
      type: 'openai';
      baseUrl: string;
      apiKey: string;
      models: string[];
      modelMapping?: Record<string, string>;
    },
  ): Promise<ChannelResponseDto> {
    const res = await this.accounts<ChannelResponseDto>('POST', '/admin/channels', { token, body });
    return expectStatus(res, 201, 'create channel');
  }

  async putPrice(
    token: string,
    model: string,
    inputUsdPerMTok: string,
    outputUsdPerMTok: string,
  ): Promise<PriceResponseDto> {
    const res = await this.billing<PriceResponseDto>(
      'PUT',
      `/admin/prices/${encodeURIComponent(model)}`,
      {
        token,
        body: { inputUsdPerMTok, outputUsdPerMTok },
      },
    );
    if (res.status !== 200 && res.status !== 201) expectStatus(res, 200, `put price ${model}`);
    return res.body;
  }

  /** Every usage record of an organisation, following `nextCursor` (bounded). */
  async allUsage(token: string, orgId: string): Promise<UsageRecordResponseDto[]> {
    const items: UsageRecordResponseDto[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 50; page++) {
      const qs: string = `?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res: HttpResult<Page<UsageRecordResponseDto>> = await this.billing<
        Page<UsageRecordResponseDto>
      >('GET', `/orgs/${orgId}/usage${qs}`, { token });
      const body = expectStatus(res, 200, 'list usage');
      items.push(...body.items);
      cursor = body.nextCursor;
      if (!cursor) return items;
    }
    throw new Error('usage listing did not end within 50 pages');
  }
}

/** A minimal RFC 4180 reader: quoted fields, doubled quotes, CRLF or LF. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') {
        quoted = false;
      } else {
        field += ch;
      }
    } else if (ch === '"') {
      quoted = true;
    } else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else {
      field += ch;
    }
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
