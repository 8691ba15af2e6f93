import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import type {
  LimitsStateResponseDto,
  ModelLimitsListResponseDto,
  RedemptionCodesCreatedResponseDto,
  AlertSettingsResponseDto,
} from '@tollgate/contracts';
import { TollgateApi, expectStatus } from './support/api';
import { PortalBrowser } from './support/browser';
import { startStack, type Stack } from './support/stack';

/**
 * The budget pages of the portal in a real headless Chromium against the whole built stack: an owner
 * logs in, sets the organisation's monthly budget (after a bad amount is refused next to its field),
 * its billing time zone, a key's rpm and limits on one model of that key (a bad model name refused),
 * and sees them after a reload and in the accounts API;
 * configures the alert webhook (a private address refused by billing, then a public URL that is
 * stored but never called here, as no budget is reached), sees the signing secret once and rotates
 * it; redeems a prepaid code; a finance member reads the same pages without any form, and a plain
 * member sees the limits but no spend, alerts or balance.
 */

const WEBHOOK_URL = 'https://hooks.example.com/tollgate';

const uniq = randomBytes(4).toString('hex');
const owner = {
  email: `budget-owner-${uniq}@example.com`,
  password: 'budget-password-1234',
  organisation: `Budget Org ${uniq}`,
};
const finance = {
  email: `budget-finance-${uniq}@example.com`,
  password: 'finance-password-1234',
  organisation: `Finance Own Org ${uniq}`,
};
const member = {
  email: `budget-member-${uniq}@example.com`,
  password: 'member-password-1234',
  organisation: `Member Own Org ${uniq}`,
};

describe('budgets, alerts and balance in the portal', () => {
  let stack: Stack;
  let api: TollgateApi;
  let browser: PortalBrowser;
  let page: Page;
  let orgId = '';
  let tenantId = '';
  let keyId = '';
  let ownerToken = '';
  let redemptionCode = '';

  /** Runs one step; a failure names the page's URL and a screenshot (see PortalBrowser.step). */
  const step = (name: string, fn: () => Promise<void>): Promise<void> => browser.step(name, fn);

  async function limitsOf(scope: 'orgs' | 'keys', id: string): Promise<LimitsStateResponseDto> {
    const res = await api.accounts<LimitsStateResponseDto>('GET', `/${scope}/${id}/limits`, {
      token: ownerToken,
    });
    return expectStatus(res, 200, `GET ${scope} limits`);
  }

  async function login(email: string, password: string): Promise<void> {
    await page.goto('/login');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByTestId('login-submit').click();
    await page.waitForURL(`${stack.portalUrl}/`);
  }

  /** Logs out whoever is in, logs `user` in and switches to the owner's organisation. */
  async function loginToOwnersOrg(user: { email: string; password: string }): Promise<void> {
    await page.getByTestId('logout').click();
    await page.waitForURL(/\/login$/);
    await login(user.email, user.password);
    await page.getByTestId('org-select').selectOption(orgId);
    await page.getByRole('button', { name: 'Switch' }).click();
    await page.getByTestId('organisation-name').filter({ hasText: owner.organisation }).waitFor();
  }

  beforeAll(async () => {
    stack = await startStack({ portal: true });
    api = new TollgateApi(stack.accountsUrl, stack.billingUrl);

    // what the owner already has: an organisation, a tenant and a key
    const signup = await api.signup(owner.email, owner.password, owner.organisation);
    orgId = signup.organisation.id;
    ownerToken = signup.accessToken;
    tenantId = (await api.createTenant(ownerToken, orgId, `tenant-${uniq}`)).id;
    keyId = (await api.createKey(ownerToken, tenantId, { name: `key-${uniq}` })).id;

    // a finance and a plain member (each signed up with an organisation of their own)
    for (const [user, role] of [
      [finance, 'finance'],
      [member, 'member'],
    ] as const) {
      await api.signup(user.email, user.password, user.organisation);
      const added = await api.accounts('POST', `/orgs/${orgId}/members`, {
        token: ownerToken,
        body: { email: user.email, role },
      });
      expectStatus(added, 201, `add ${role} member`);
    }

    // a prepaid code from the platform admin
    const admin = await api.login(stack.admin.email, stack.admin.password);
    const codes = await api.billing<RedemptionCodesCreatedResponseDto>(
      'POST',
      '/admin/redemption-codes',
      { token: admin.accessToken, body: { amountUsd: '5' } },
    );
    redemptionCode = expectStatus(codes, 201, 'create redemption code').items[0]!.code;

    browser = await PortalBrowser.open(stack.portalUrl, 'portal-budgets-e2e-' + uniq);
    ({ page } = browser);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  }, 60_000);

  it('refuses a bad monthly budget next to its field, then saves one that survives a reload', async () => {
    await step('org-budget', async () => {
      await login(owner.email, owner.password);
      await page.getByTestId('nav-budgets').click();
      await page.waitForURL(`${stack.portalUrl}/budgets`);
      expect(await page.getByTestId('limit-value-monthlyBudgetUsd').textContent()).toBe(
        'unlimited',
      );

      const monthly = page.getByTestId('limit-monthlyBudgetUsd');
      await monthly.fill('-5');
      await page.getByTestId('limits-submit').click();
      const fieldError = page.getByTestId('limit-monthlyBudgetUsd-error');
      await fieldError.waitFor();
      expect(await fieldError.textContent()).toContain(
        'Monthly budget must be an amount of US dollars such as 250 or 12.50',
      );
      expect(await page.getByTestId('form-error').textContent()).toContain('“-5”');
      expect(await monthly.getAttribute('aria-invalid')).toBe('true');
      expect(await monthly.inputValue()).toBe('-5');
      // nothing was stored
      expect((await limitsOf('orgs', orgId)).monthlyBudgetUsd).toBeNull();

      await monthly.fill('250.50');
      await page.getByTestId('limits-submit').click();
      await page.getByTestId('form-success').waitFor();
      expect(await page.getByTestId('limit-monthlyBudgetUsd-error').count()).toBe(0);

      await page.reload();
      expect(await page.getByTestId('limit-value-monthlyBudgetUsd').textContent()).toBe('$250.50');
      expect(await page.getByTestId('limit-monthlyBudgetUsd').inputValue()).toBe('250.50');
      expect(await page.getByTestId('limit-value-dailyBudgetUsd').textContent()).toBe('unlimited');
      // the owner reads spend: nothing spent yet this month
      expect(await page.getByTestId('limit-spent-monthlyBudgetUsd').textContent()).toBe('$0.00');
      const stored = await limitsOf('orgs', orgId);
      expect(stored).toEqual(
        expect.objectContaining({ monthlyBudgetUsd: '250.50', dailyBudgetUsd: null, rpm: null }),
      );
    });
  });

  it('sets the billing time zone and fail-open, refusing an unknown zone', async () => {
    await step('org-settings', async () => {
      const tz = page.getByTestId('billing-time-zone');
      expect(await tz.inputValue()).toBe('UTC');
      await tz.fill('Mars/Olympus');
      await page.getByTestId('org-settings-submit').click();
      await page.getByTestId('org-settings-error').waitFor();
      expect(await page.getByTestId('org-settings-error').textContent()).toContain(
        'IANA time zone',
      );

      await tz.fill('Europe/Berlin');
      await page.getByTestId('admission-fail-open').check();
      await page.getByTestId('org-settings-submit').click();
      await page.getByTestId('org-settings-success').waitFor();

      await page.reload();
      expect(await page.getByTestId('billing-time-zone').inputValue()).toBe('Europe/Berlin');
      expect(await page.getByTestId('admission-fail-open').isChecked()).toBe(true);
      expect(await page.locator('#org-limits-title + p').textContent()).toContain('Europe/Berlin');
      const org = expectStatus(
        await api.accounts<{ billingTimeZone: string; admissionFailOpen: boolean }>(
          'GET',
          `/orgs/${orgId}`,
          { token: ownerToken },
        ),
        200,
        'GET organisation',
      );
      expect(org).toEqual(
        expect.objectContaining({ billingTimeZone: 'Europe/Berlin', admissionFailOpen: true }),
      );
    });
  });

  it('sets a key’s rpm from the tenant page, seen after a reload', async () => {
    await step('key-rpm', async () => {
      await page.goto(`/tenants/${tenantId}`);
      const row = page.locator(`[data-testid="key-row"][data-key-id="${keyId}"]`);
      await row.getByTestId('key-limits-link').click();
      await page.waitForURL(`${stack.portalUrl}/tenants/${tenantId}/keys/${keyId}/limits`);
      expect(await page.getByTestId('limits-title').textContent()).toBe(
        `Limits of key key-${uniq}`,
      );

      await page.getByTestId('limit-rpm').fill('12.5');
      await page.getByTestId('limits-submit').click();
      await page.getByTestId('limit-rpm-error').waitFor();
      expect(await page.getByTestId('limit-rpm-error').textContent()).toContain(
        'Requests per minute must be a whole number',
      );

      await page.getByTestId('limit-rpm').fill('120');
      await page.getByTestId('limits-submit').click();
      await page.getByTestId('form-success').waitFor();
      await page.reload();
      expect(await page.getByTestId('limit-value-rpm').getAttribute('data-value')).toBe('120');
      expect(await page.getByTestId('limit-rpm').inputValue()).toBe('120');
      expect((await limitsOf('keys', keyId)).rpm).toBe(120);
      // the organisation's budget is its own, not the key's
      expect(await page.getByTestId('limit-value-monthlyBudgetUsd').textContent()).toBe(
        'unlimited',
      );
    });
  });

  it('sets, shows and removes limits on one model of a key', async () => {
    await step('key-model-limits', async () => {
      const listed = async () =>
        (
          await api.accounts<ModelLimitsListResponseDto>('GET', `/keys/${keyId}/limits/models`, {
            token: ownerToken,
          })
        ).body.items;
      await page.goto(`/tenants/${tenantId}/keys/${keyId}/limits`);
      await page.getByTestId('model-limits-empty').waitFor();

      await page.getByTestId('model-limit-model').fill('not a model');
      await page.getByTestId('model-limit-rpm').fill('7');
      await page.getByTestId('model-limits-submit').click();
      await page.getByTestId('model-form-error').waitFor();
      expect(await page.getByTestId('model-form-error').textContent()).toContain(
        'is not a model name',
      );
      expect(await listed()).toEqual([]);

      await page.getByTestId('model-limit-model').fill('vendor/model-a');
      await page.getByTestId('model-limit-rpm').fill('7');
      await page.getByTestId('model-limit-dailyBudgetUsd').fill('2.5');
      await page.getByTestId('model-limits-submit').click();
      await page.getByTestId('model-form-success').waitFor();
      await page.reload();
      const row = page.getByTestId('model-limit-row');
      expect(await row.count()).toBe(1);
      const cells = await row.locator('td').allTextContents();
      expect(cells.slice(0, 7)).toEqual([
        'vendor/model-a',
        '$2.50',
        '—',
        '—',
        '7',
        'unlimited',
        'unlimited',
      ]);
      expect(await listed()).toMatchObject([
        { model: 'vendor/model-a', rpm: 7, dailyBudgetUsd: '2.50', tpm: null },
      ]);
      // the key's own limits are untouched
      expect((await limitsOf('keys', keyId)).rpm).toBe(120);

      await row.getByTestId('model-limit-remove').click();
      await page.getByTestId('model-limits-empty').waitFor();
      expect(await listed()).toEqual([]);
    });
  });

  it('configures the alert webhook and shows its signing secret once', async () => {
    await step('alerts', async () => {
      await page.getByTestId('nav-alerts').click();
      await page.waitForURL(`${stack.portalUrl}/alerts`);
      await page.getByTestId('alerts-empty').waitFor();
      expect(await page.getByTestId('alert-current-thresholds').textContent()).toContain(
        '(defaults)',
      );

      // billing refuses private destinations; its wording reaches the user
      await page.getByTestId('alert-webhook-url').fill('http://127.0.0.1:9/hook');
      await page.getByTestId('alert-settings-submit').click();
      await page.getByTestId('alert-form-error').waitFor();
      expect(await page.getByTestId('alert-form-error').textContent()).toContain(
        'must point to a public address',
      );
      expect(await page.getByTestId('alert-secret-box').count()).toBe(0);

      await page.getByTestId('alert-webhook-url').fill(WEBHOOK_URL);
      await page.getByTestId('alert-thresholds').fill('90, 50%');
      await page.getByTestId('alert-settings-submit').click();
      await page.getByTestId('alert-secret-box').waitFor();
      const secret = ((await page.getByTestId('alert-secret').textContent()) ?? '').trim();
      expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);

      await page.reload();
      expect(await page.getByTestId('alert-current-url').textContent()).toBe(WEBHOOK_URL);
      expect(await page.getByTestId('alert-current-thresholds').textContent()).toBe('50%, 90%');
      expect(await page.getByTestId('alert-secret-box').count()).toBe(0);
      expect(await page.content()).not.toContain(secret);

      // saving again keeps the secret unseen
      await page.getByTestId('alert-settings-submit').click();
      await page.getByTestId('alert-form-success').waitFor();
      expect(await page.getByTestId('alert-secret-box').count()).toBe(0);

      await page.getByTestId('rotate-secret').click();
      await page.getByTestId('rotate-secret-confirm').click();
      await page.getByTestId('alert-secret-box').waitFor();
      const rotated = ((await page.getByTestId('alert-secret').textContent()) ?? '').trim();
      expect(rotated).toMatch(/^whsec_/);
      expect(rotated).not.toBe(secret);
      await page.getByTestId('dismiss-alert-secret').click();
      expect(await page.getByTestId('alert-secret-box').count()).toBe(0);

      const settings = expectStatus(
        await api.billing<AlertSettingsResponseDto>('GET', `/orgs/${orgId}/alert-settings`, {
          token: ownerToken,
        }),
        200,
        'GET alert settings',
      );
      expect(settings).toEqual(
        expect.objectContaining({ webhookUrl: WEBHOOK_URL, thresholdsPercent: [50, 90] }),
      );
      expect(settings.signingSecret).toBeUndefined();
    });
  });

  it('redeems a prepaid code once', async () => {
    await step('balance', async () => {
      await page.getByTestId('nav-balance').click();
      await page.waitForURL(`${stack.portalUrl}/balance`);
      await page.getByTestId('balance-not-prepaid').waitFor();

      await page.getByTestId('redeem-code').fill(redemptionCode);
      await page.getByTestId('redeem-submit').click();
      await page.getByTestId('redeem-success').waitFor();
      expect(await page.getByTestId('redeem-success').textContent()).toContain('$5.00');
      await page.reload();
      expect(await page.getByTestId('balance-amount').textContent()).toBe('$5.00');
      expect(await page.getByTestId('credit-row').count()).toBe(1);

      await page.getByTestId('redeem-code').fill(redemptionCode);
      await page.getByTestId('redeem-submit').click();
      await page.getByTestId('redeem-error').waitFor();
      expect(await page.getByTestId('redeem-error').textContent()).toContain('cannot be redeemed');
      await page.reload();
      expect(await page.getByTestId('balance-amount').textContent()).toBe('$5.00');
    });
  });

  it('lets a finance member read budgets, alerts and balance without any form', async () => {
    await step('finance', async () => {
      await loginToOwnersOrg(finance);

      await page.goto('/budgets');
      expect(await page.getByTestId('limit-value-monthlyBudgetUsd').textContent()).toBe('$250.50');
      expect(await page.getByTestId('limits-form').count()).toBe(0);
      expect(await page.getByTestId('org-settings-form').count()).toBe(0);

      await page.goto('/alerts');
      expect(await page.getByTestId('alert-current-url').textContent()).toBe(WEBHOOK_URL);
      expect(await page.getByTestId('alert-settings-form').count()).toBe(0);
      expect(await page.getByTestId('rotate-secret').count()).toBe(0);

      await page.goto('/balance');
      expect(await page.getByTestId('balance-amount').textContent()).toBe('$5.00');
      expect(await page.getByTestId('redeem-form').count()).toBe(0);
    });
  });

  it('shows a plain member the limits but no spend, alerts or balance', async () => {
    await step('member', async () => {
      await loginToOwnersOrg(member);

      await page.goto('/budgets');
      expect(await page.getByTestId('limit-value-monthlyBudgetUsd').textContent()).toBe('$250.50');
      expect(await page.getByTestId('limit-spent-monthlyBudgetUsd').count()).toBe(0);
      expect(await page.getByTestId('limits-form').count()).toBe(0);

      await page.goto('/alerts');
      await page.getByTestId('alerts-forbidden').waitFor();
      expect(await page.content()).not.toContain(WEBHOOK_URL);

      await page.goto('/balance');
      await page.getByTestId('balance-forbidden').waitFor();
      expect(await page.getByTestId('balance-amount').count()).toBe(0);
    });
  });
});
