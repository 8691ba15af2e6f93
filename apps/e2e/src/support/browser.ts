import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium (never a downloaded browser); `CHROMIUM_PATH` points elsewhere. */
const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A headless Chromium on the portal with a throwaway profile, and the steps a spec runs in it. */
export class PortalBrowser {
  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
    private readonly userDataDir: string,
    /** names the failure screenshots (`<label>-<step>.png` in the temp directory) */
    private readonly label: string,
  ) {}

  static async open(portalUrl: string, label: string): Promise<PortalBrowser> {
    const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'tollgate-chromium-'));
    try {
      const context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM_PATH,
        headless: true,
        args: CHROMIUM_ARGS,
        baseURL: portalUrl,
        viewport: { width: 1280, height: 900 },
      });
      context.setDefaultTimeout(15_000);
      const page = context.pages()[0] ?? (await context.newPage());
      return new PortalBrowser(context, page, userDataDir, label);
    } catch (err) {
      rmSync(userDataDir, { recursive: true, force: true });
      throw err;
    }
  }

  /**
   * Runs one step; a failure is rethrown with the page's URL and a full-page screenshot.
   * `PORTAL_E2E_SCREENSHOTS=<dir>` also keeps a picture of every step that passed.
   */
  async step(name: string, fn: () => Promise<void>): Promise<void> {
    const file = `${this.label}-${name.replace(/\W+/g, '-')}.png`;
    try {
      await fn();
      const dir = process.env.PORTAL_E2E_SCREENSHOTS;
      if (dir) await this.page.screenshot({ path: path.join(dir, file), fullPage: true });
    } catch (err) {
      const shotPath = path.join(os.tmpdir(), file);
      const shot = await this.page
        .screenshot({ path: shotPath, fullPage: true })
        .then(() => `screenshot: ${shotPath}`)
        .catch((e: unknown) => `no screenshot (${String(e)})`);
      const message = err instanceof Error ? err.message : String(err);
      throw new Error(`${name} failed at ${this.page.url()} (${shot}):\n${message}`, {
        cause: err,
      });
    }
  }

  async close(): Promise<void> {
    await this.context.close().catch(() => undefined);
    rmSync(this.userDataDir, { recursive: true, force: true });
  }
}
