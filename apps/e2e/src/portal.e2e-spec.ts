import { randomBytes } from 'node:crypto';
import type { BrowserContext, Page } from 'playwright-core';
import { waitFor } from '@tollgate/server-testing';
import { TollgateApi, expectStatus } from './support/api';
import { PortalBrowser } from './support/browser';
import { startStack, type Stack } from './support/stack';

/**
 * The portal in a real headless Chromium against the whole built stack: an organisation signs up,
 * creates a tenant and a key (the secret shown once, then only its prefix), a developer calls the
 * proxy with that key, the call appears priced on the usage page, and the key is revoked. Along the
 * way: the session cookie is httpOnly, an expired access token is refreshed transparently, and
 * refused input shows the API's problem details instead of breaking the page.
 */

const MODEL = 'gpt-4o-mini';
const SESSION_COOKIE = 'tg_session';

const uniq = randomBytes(4).toString('hex');
const owner = {
  email: `portal-owner-${uniq}@example.com`,
  password: 'portal-password-1234',
  organisation: `Portal Org ${uniq}`,
};
const tenantName = `checkout-${uniq}`;
const TENANT_GROUP = 'internal-tools';
const keyName = `browser key ${uniq}`;

function base64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('the portal in a browser', () => {
  let stack: Stack;
  let browser: PortalBrowser;
  let context: BrowserContext;
  let page: Page;
  // filled in as the journey goes
  let tenantPath = '';
  let secret = '';
  let requestId = '';

  /** Runs one step; a failure names the page's URL and a screenshot (see PortalBrowser.step). */
  const step = (name: string, fn: () => Promise<void>): Promise<void> => browser.step(name, fn);

  async function sessionCookie() {
    const cookies = await context.cookies(stack.portalUrl);
    return cookies.find((c) => c.name === SESSION_COOKIE);
  }

  beforeAll(async () => {
    stack = await startStack({ portal: true });

    // The platform admin connects the mock provider and prices the model, as an operator would.
    const api = new TollgateApi(stack.accountsUrl, stack.billingUrl);
    const admin = await api.login(stack.admin.email, stack.admin.password);
    // the tenant below lives in group `internal-tools` (the check plan's first tenant), so the
    // channel must admit that group
    const channel = await api.accounts('POST', '/admin/channels', {
      token: admin.accessToken,
      body: {
        name: `mock-${uniq}`,
        type: 'openai',
        baseUrl: `${stack.mockUrl}/v1`,
        apiKey: 'mock-key',
        models: [MODEL],
        groups: [TENANT_GROUP],
      },
    });
    expectStatus(channel, 201, 'create channel');
    await api.putPrice(admin.accessToken, MODEL, '0.15', '0.6');

    browser = await PortalBrowser.open(stack.portalUrl, 'portal-e2e-' + uniq);
    ({ context, page } = browser);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  }, 60_000);

  it('sends a visitor without a session to the login page', async () => {
    await step('redirect-to-login', async () => {
      await page.goto('/usage');
      await page.waitForURL(/\/login\?next=%2Fusage$/);
      await expect(page.getByTestId('login-form').isVisible()).resolves.toBe(true);
    });
  });

  it('signs an organisation up, showing refused input without breaking the form', async () => {
    await step('signup', async () => {
      await page.goto('/signup');
      await page.getByLabel('Organisation name').fill(owner.organisation);
      await page.getByLabel('Email').fill(owner.email);
      await page.getByLabel('Password').fill('short');
      await page.getByTestId('signup-submit').click();
      const error = page.getByTestId('form-error');
      await error.waitFor();
      expect(await error.textContent()).toContain('at least 10 characters');
      // what was typed survives the refusal (except the password)
      expect(await page.getByLabel('Email').inputValue()).toBe(owner.email);

      await page.getByLabel('Password').fill(owner.password);
      await page.getByTestId('signup-submit').click();
      await page.waitForURL(`${stack.portalUrl}/`);
      expect(await page.getByTestId('organisation-name').textContent()).toBe(owner.organisation);
      expect(await page.getByTestId('user-email').textContent()).toBe(owner.email);
    });
  });

  it('keeps the tokens in an httpOnly, SameSite=Lax cookie that page scripts cannot read', async () => {
    await step('cookie', async () => {
      const cookie = await sessionCookie();
      expect(cookie).toEqual(
        expect.objectContaining({ httpOnly: true, sameSite: 'Lax', secure: false, path: '/' }),
      );
      const visible = await page.evaluate(() => document.cookie);
      expect(visible).not.toContain(SESSION_COOKIE);
      expect(await page.content()).not.toContain(cookie!.value);
    });
  });

  it('creates a tenant in a group, after showing why a bad group is refused', async () => {
    await step('create-tenant', async () => {
      await page.getByLabel('Name', { exact: true }).fill(tenantName);
      await page.getByLabel('Group (optional)').fill('Not A Group');
      await page.getByTestId('tenant-submit').click();
      await page.getByTestId('form-error').waitFor();
      expect(await page.getByTestId('form-error').textContent()).toContain('Group must');

      await page.getByLabel('Group (optional)').fill(TENANT_GROUP);
      await page.getByTestId('tenant-submit').click();
      await page.getByTestId('form-success').waitFor();
      const row = page.getByTestId('tenant-row').filter({ hasText: tenantName });
      await row.waitFor();
      expect(await row.textContent()).toContain(TENANT_GROUP);

      await row.getByTestId('tenant-link').click();
      await page.waitForURL(/\/tenants\/[^/]+$/);
      tenantPath = new URL(page.url()).pathname;
      expect(await page.getByTestId('tenant-title').textContent()).toBe(tenantName);
      await page.getByTestId('keys-empty').waitFor();
    });
  });

  it('shows a new key once, then only its prefix', async () => {
    await step('create-key', async () => {
      await page.getByLabel('Name', { exact: true }).fill(keyName);
      await page.getByTestId('key-submit').click();
      const box = page.getByTestId('new-key-box');
      await box.waitFor();
      expect(await box.textContent()).toContain('only time');
      secret = ((await page.getByTestId('new-key-secret').textContent()) ?? '').trim();
      expect(secret).toMatch(/^tg-[A-Za-z0-9]{40}$/);
      expect(await page.getByTestId('copy-key').isVisible()).toBe(true);

      const row = page.getByTestId('key-row').filter({ hasText: keyName });
      await row.waitFor();
      expect(await row.getByTestId('key-prefix').textContent()).toBe(`${secret.slice(0, 12)}…`);
      expect(await row.getByTestId('key-status').textContent()).toBe('active');

      await page.reload();
      await page.getByTestId('key-row').filter({ hasText: keyName }).waitFor();
      expect(await page.getByTestId('new-key-box').count()).toBe(0);
      const html = await page.content();
      expect(html).not.toContain(secret);
      expect(html).toContain(secret.slice(0, 12));
    });
  });

  it('shows a call made through the proxy with that key, priced, on the usage page', async () => {
    await step('usage', async () => {
      // the channel and the key reach the proxy through Redis projections
      await waitFor(
        async () => {
          const res = await fetch(`${stack.proxyUrl}/v1/models`, {
            headers: { authorization: `Bearer ${secret}` },
            signal: AbortSignal.timeout(5_000),
          });
          if (res.status !== 200) return false;
          const body = (await res.json()) as { data: { id: string }[] };
          return body.data.some((m) => m.id === MODEL);
        },
        {
          timeoutMs: 15_000,
          intervalMs: 200,
          what: 'the proxy to accept the key and serve the model',
        },
      );
      const res = await fetch(`${stack.proxyUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: MODEL,
          messages: [{ role: 'user', content: 'hello from the portal test' }],
        }),
        signal: AbortSignal.timeout(15_000),
      });
      const text = await res.text();
      expect({ status: res.status, text: res.status === 200 ? '' : text }).toEqual({
        status: 200,
        text: '',
      });
      requestId = res.headers.get('x-request-id') ?? '';
      expect(requestId).not.toBe('');

      await page.getByTestId('nav-usage').click();
      await page.waitForURL(`${stack.portalUrl}/usage`);
      // the worker prices the call asynchronously: reload until it is in the ledger
      const deadline = Date.now() + 30_000;
      const row = page.locator(`[data-testid="usage-row"][data-request-id="${requestId}"]`);
      for (;;) {
        const amount = await page.getByTestId('month-total').getAttribute('data-amount');
        if ((await row.count()) === 1 && amount !== null && /[1-9]/.test(amount)) break;
        if (Date.now() > deadline)
          throw new Error(`request ${requestId} with spend > 0 did not appear within 30 s`);
        await new Promise((r) => setTimeout(r, 500));
        await page.reload();
      }
      expect(await row.textContent()).toContain(MODEL);
      expect(await row.textContent()).toContain(tenantName);
      const line = page.getByTestId('report-line').filter({ hasText: keyName });
      expect(await line.textContent()).toContain(tenantName);
      expect(await line.textContent()).toContain(MODEL);
      expect(await page.getByTestId('month-total').textContent()).toMatch(/^\$0\.\d*[1-9]/);
    });
  });

  it('downloads the monthly report as CSV through the portal', async () => {
    await step('csv', async () => {
      await page.goto('/usage');
      const href = await page.getByTestId('csv-link').getAttribute('href');
      expect(href).toMatch(/^\/usage\/export\?month=\d{4}-\d{2}$/);
      // the browser context's request API carries the session cookie, as a click would
      const res = await context.request.get(href!);
      expect(res.status()).toBe(200);
      expect(res.headers()['content-type']).toContain('text/csv');
      expect(res.headers()['content-disposition']).toMatch(
        /^attachment; filename="tollgate-.+\.csv"$/,
      );
      expect(await res.text()).toContain(MODEL);
    });
  });

  it('refreshes an expired access token without bothering the user', async () => {
    await step('refresh', async () => {
      const before = await sessionCookie();
      const stored = JSON.parse(Buffer.from(before!.value, 'base64url').toString('utf8')) as {
        v: 1;
        a: string;
        r: string;
      };
      const expired = [
        base64urlJson({ alg: 'HS256', typ: 'JWT' }),
        base64urlJson({ sub: 'x', exp: Math.floor(Date.now() / 1000) - 60 }),
        'expired',
      ].join('.');
      await context.addCookies([
        { ...before!, value: base64urlJson({ ...stored, a: expired }), expires: before!.expires },
      ]);

      await page.goto('/');
      expect(new URL(page.url()).pathname).toBe('/');
      expect(await page.getByTestId('organisation-name').textContent()).toBe(owner.organisation);
      const after = await sessionCookie();
      const renewed = JSON.parse(Buffer.from(after!.value, 'base64url').toString('utf8')) as {
        a: string;
        r: string;
      };
      expect(renewed.a).not.toBe(expired);
      expect(renewed.r).not.toBe(stored.r); // refresh tokens rotate
    });
  });

  it('revokes the key after a confirmation and the proxy refuses it', async () => {
    await step('revoke', async () => {
      await page.goto(tenantPath);
      const row = page.getByTestId('key-row').filter({ hasText: keyName });
      await row.getByTestId('revoke-key').click();
      await row.getByTestId('revoke-confirm').waitFor();
      await row.getByTestId('revoke-key-cancel').click();
      expect(await row.getByTestId('key-status').textContent()).toBe('active');

      await row.getByTestId('revoke-key').click();
      await row.getByTestId('revoke-key-confirm').click();
      await page
        .locator('[data-testid="key-row"][data-key-status="revoked"]')
        .filter({ hasText: keyName })
        .waitFor();
      await page.reload();
      const revoked = page.getByTestId('key-row').filter({ hasText: keyName });
      expect(await revoked.getByTestId('key-status').textContent()).toBe('revoked');
      expect(await revoked.getByTestId('revoke-key').count()).toBe(0);

      await waitFor(
        async () => {
          const res = await fetch(`${stack.proxyUrl}/v1/chat/completions`, {
            method: 'POST',
            headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
            body: JSON.stringify({
              model: MODEL,
              messages: [{ role: 'user', content: 'still there?' }],
            }),
            signal: AbortSignal.timeout(5_000),
          });
          await res.arrayBuffer();
          return res.status === 401;
        },
        { timeoutMs: 5_000, intervalMs: 200, what: 'the proxy to refuse the revoked key' },
      );
    });
  });

  it('logs out, refuses a second signup and a wrong password, and logs back in', async () => {
    await step('logout-login', async () => {
      await page.getByTestId('logout').click();
      await page.waitForURL(/\/login$/);
      expect(await sessionCookie()).toBeUndefined();
      await page.goto('/');
      await page.waitForURL(/\/login/);

      await page.goto('/signup');
      await page.getByLabel('Organisation name').fill(`${owner.organisation} again`);
      await page.getByLabel('Email').fill(owner.email);
      await page.getByLabel('Password').fill(owner.password);
      await page.getByTestId('signup-submit').click();
      await page.getByTestId('form-error').waitFor();
      expect(new URL(page.url()).pathname).toBe('/signup');

      await page.goto(`/login?next=${encodeURIComponent(tenantPath)}`);
      await page.getByLabel('Email').fill(owner.email);
      await page.getByLabel('Password').fill('not-the-password');
      await page.getByTestId('login-submit').click();
      await page.getByTestId('form-error').waitFor();

      await page.getByLabel('Password').fill(owner.password);
      await page.getByTestId('login-submit').click();
      await page.waitForURL(`${stack.portalUrl}${tenantPath}`);
      expect(await page.getByTestId('tenant-title').textContent()).toBe(tenantName);
    });
  });
});
