import type { Browser, Dialog, Locator, Page } from 'playwright-core';
import { TEST_PASSWORD } from '../helpers.js';

/**
 * The console page (server/public/index.html) as a person uses it: the login form, the header's
 * user line, the board's rows and the dialogs acknowledging opens. Each ConsolePage is its own
 * browser context, so its session cookie is its own.
 */
export class ConsolePage {
  /** Alerts the page showed, in order (each closed at once). */
  readonly alerts: string[] = [];
  /** Prompts the page showed, in order. */
  readonly prompts: string[] = [];
  /** Answers for the next prompts, in order; a prompt with none left is dismissed. */
  readonly answers: string[] = [];

  private constructor(readonly page: Page) {
    page.on('dialog', (d: Dialog) => {
      if (d.type() === 'alert') {
        this.alerts.push(d.message());
        void d.accept();
        return;
      }
      this.prompts.push(d.message());
      const answer = this.answers.shift();
      void (answer === undefined ? d.dismiss() : d.accept(answer));
    });
  }

  /** A fresh page in a context of its own; `locale` is what navigator.language says (en-US by default). */
  static async create(browser: Browser, opts: { locale?: string } = {}): Promise<ConsolePage> {
    const context = await browser.newContext({ locale: opts.locale ?? 'en-US' });
    return new ConsolePage(await context.newPage());
  }

  /** A page at `url` logged in as `username` through the form, its board shown. */
  static async loggedIn(
    browser: Browser,
    url: string,
    username: string,
    opts: { locale?: string; password?: string } = {},
  ): Promise<ConsolePage> {
    const c = await ConsolePage.create(browser, opts);
    await c.goto(url);
    await c.logIn(username, opts.password);
    return c;
  }

  async goto(url: string): Promise<void> {
    await this.page.goto(`${url}/`);
  }

  get loginForm(): Locator {
    return this.page.locator('#login');
  }
  get board(): Locator {
    return this.page.locator('#board');
  }
  /** The login form's error line, '' while hidden. */
  async loginError(): Promise<string> {
    const box = this.page.locator('#login-error');
    return (await box.isVisible()) ? ((await box.textContent()) ?? '') : '';
  }
  /** The header's "display name (role)", '' while nobody is logged in. */
  async who(): Promise<string> {
    const line = this.page.locator('#user-line');
    return (await line.isVisible()) ? ((await this.page.locator('#who').textContent()) ?? '') : '';
  }

  /** Fills in and sends the login form (it must be shown); does not wait for the answer. */
  async submitLogin(username: string, password = TEST_PASSWORD): Promise<void> {
    await this.loginForm.waitFor({ state: 'visible', timeout: 15_000 });
    await this.page.locator('#username').fill(username);
    await this.page.locator('#password').fill(password);
    await this.page.locator('#login-submit').click();
  }

  /** Logs in through the form and waits for the board and the header's user line. */
  async logIn(username: string, password = TEST_PASSWORD): Promise<void> {
    await this.submitLogin(username, password);
    await this.board.waitFor({ state: 'visible', timeout: 15_000 });
    await this.page.locator('#user-line').waitFor({ state: 'visible', timeout: 15_000 });
  }

  async logOut(): Promise<void> {
    await this.page.locator('#logout').click();
    await this.loginForm.waitFor({ state: 'visible', timeout: 15_000 });
  }

  /** The open-alarm rows of `dev`. */
  alarmRows(dev: string): Locator {
    return this.page.locator('#alarms tr[data-alarm]').filter({ hasText: dev });
  }

  async close(): Promise<void> {
    await this.page.context().close();
  }
}
