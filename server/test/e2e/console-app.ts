import type { Browser, ConsoleMessage, Locator, Page, WebSocketRoute } from 'playwright-core';
import { TEST_PASSWORD } from '../helpers.js';

/** One oscillator the page started (Web Audio), as the instrumented AudioContext saw it. */
export interface Tone {
  hz: number;
  wave: string;
  at: number;
}
/** One browser notification the page raised. */
export interface Note {
  title: string;
  body: string;
  tag: string;
}

/**
 * Before any script of the page: every oscillator start and every Notification is recorded on
 * window (the real AudioContext still plays; Notification is replaced by a recorder that reports
 * the permission the browser context really grants).
 */
const INSTRUMENT = `(() => {
  window.__tones = [];
  window.__notes = [];
  const create = AudioContext.prototype.createOscillator;
  AudioContext.prototype.createOscillator = function () {
    const osc = create.call(this);
    const start = osc.start.bind(osc);
    osc.start = (when) => {
      window.__tones.push({ hz: osc.frequency.value, wave: osc.type, at: Date.now() });
      start(when);
    };
    return osc;
  };
  const Real = window.Notification;
  class RecordingNotification {
    static get permission() { return Real.permission; }
    static requestPermission() { return Real.requestPermission(); }
    constructor(title, opts = {}) {
      this.onclick = null;
      window.__notes.push({ title, body: opts.body ?? '', tag: opts.tag ?? '' });
    }
    close() {}
  }
  window.Notification = RecordingNotification;
})();`;

/**
 * The console app (server/console) at /console/ as a person uses it, at a given width and
 * language, in a browser context of its own (its own session cookie, notifications granted).
 */
export class ConsoleApp {
  /** Uncaught errors and console errors of the page (a 401 of the login check is expected). */
  readonly errors: string[] = [];
  private frozen = false;

  private constructor(readonly page: Page) {
    page.on('pageerror', (err) => this.errors.push(`uncaught: ${err.message}`));
    page.on('console', (m: ConsoleMessage) => {
      if (m.type() !== 'error') return;
      // Chromium logs every non-2xx answer; a 401 is how the app learns nobody is logged in.
      if (/Failed to load resource: the server responded with a status of 401/.test(m.text())) return;
      this.errors.push(`console: ${m.text()}`);
    });
  }

  static async create(browser: Browser, opts: { locale: string; width: number }): Promise<ConsoleApp> {
    const context = await browser.newContext({
      locale: opts.locale,
      viewport: { width: opts.width, height: opts.width < 600 ? 844 : 900 },
      deviceScaleFactor: 1,
    });
    await context.grantPermissions(['notifications']);
    await context.addInitScript({ content: INSTRUMENT });
    const app = new ConsoleApp(await context.newPage());
    // /api/live through the test: `freeze` stops what the server sends (a hung server).
    await app.page.routeWebSocket(/\/api\/live$/, (ws: WebSocketRoute) => {
      const server = ws.connectToServer();
      server.onMessage((m) => {
        if (!app.frozen) ws.send(m);
      });
      ws.onMessage((m) => server.send(m));
    });
    return app;
  }

  async goto(url: string): Promise<void> {
    await this.page.goto(`${url}/console/`);
  }

  get loginForm(): Locator {
    return this.page.getByTestId('login');
  }
  get board(): Locator {
    return this.page.getByTestId('board');
  }
  get staleBanner(): Locator {
    return this.page.getByTestId('stale-banner');
  }

  async submitLogin(username: string, password = TEST_PASSWORD): Promise<void> {
    await this.loginForm.waitFor({ state: 'visible', timeout: 15_000 });
    await this.field('username', 'input').fill(username);
    await this.field('password', 'input').fill(password);
    await this.page.getByTestId('login-submit').click();
  }

  async logIn(username: string, password = TEST_PASSWORD): Promise<void> {
    await this.submitLogin(username, password);
    await this.board.waitFor({ state: 'visible', timeout: 15_000 });
  }

  /** An Element Plus input by test id (which it puts on the native element or its wrapper). */
  private field(id: string, tag: 'input' | 'textarea'): Locator {
    return this.page.locator(`${tag}[data-testid="${id}"], [data-testid="${id}"] ${tag}`).first();
  }

  /**
   * Sends the login form and waits for the server's answer; then what the form says ('' when the
   * login was accepted).
   */
  async loginAnswer(username: string, password = TEST_PASSWORD): Promise<string> {
    const answered = this.page.waitForResponse(
      (r) => new URL(r.url()).pathname === '/api/session' && r.request().method() === 'POST',
      { timeout: 15_000 },
    );
    await this.submitLogin(username, password);
    if ((await answered).ok()) return '';
    for (const until = Date.now() + 5_000; Date.now() < until; await this.page.waitForTimeout(50)) {
      const said = await this.loginError();
      if (said !== '') return said;
    }
    return '';
  }

  /** Why the login form is shown (logged out, the login ended), '' when it does not say. */
  async loginReason(): Promise<string> {
    const box = this.page.getByTestId('login-reason');
    return (await box.isVisible())
      ? ((await box.locator('.el-alert__title').textContent()) ?? '').trim()
      : '';
  }

  /** Logs out with the header's button and waits for the login form. */
  async logOut(): Promise<void> {
    await this.page.getByTestId('logout').click();
    await this.loginForm.waitFor({ state: 'visible', timeout: 15_000 });
  }

  /** The login form's error line, '' while none. */
  async loginError(): Promise<string> {
    const box = this.page.getByTestId('login-error');
    return (await box.isVisible())
      ? ((await box.locator('.el-alert__title').textContent()) ?? '').trim()
      : '';
  }

  /** The header's "name (role)", '' while nobody is logged in. */
  async who(): Promise<string> {
    const who = this.page.getByTestId('who');
    return (await who.isVisible()) ? ((await who.textContent()) ?? '').trim() : '';
  }

  /** The alarm cards of `dev`, in the board's order. */
  alarms(dev: string): Locator {
    return this.page.getByTestId('alarm').filter({ hasText: dev });
  }

  /**
   * Acknowledges `card` with `note` through the button and the dialog; with `ack-group`, every
   * alarm of a household's or a device's group at once.
   */
  async acknowledge(card: Locator, note: string, button: 'ack' | 'ack-group' = 'ack'): Promise<void> {
    await card.getByTestId(button).click();
    const dialog = this.field('ack-note', 'textarea');
    await dialog.waitFor({ state: 'visible', timeout: 5_000 });
    await dialog.fill(note);
    await this.page.getByTestId('ack-submit').click();
    await dialog.waitFor({ state: 'hidden', timeout: 10_000 });
  }

  tones(): Promise<Tone[]> {
    return this.page.evaluate('window.__tones') as Promise<Tone[]>;
  }
  notes(): Promise<Note[]> {
    return this.page.evaluate('window.__notes') as Promise<Note[]>;
  }

  /** Stops (true) or resumes passing on what the server sends over /api/live. */
  freeze(on: boolean): void {
    this.frozen = on;
  }

  async close(): Promise<void> {
    await this.page.context().close();
  }
}
