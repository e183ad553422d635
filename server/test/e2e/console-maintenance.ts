import type { Locator, Page } from 'playwright-core';
import type { ConsoleApp } from './console-app.js';

/**
 * The maintenance panel of a device page (#/devices/:id) as a person uses it, in a ConsoleApp
 * already logged in: the verdict, the reasons and dates in words, and the supervisor's buttons and
 * dialogs. What the tests read comes from what the panel shows and its data attributes.
 */
export class MaintenancePanel {
  constructor(readonly app: ConsoleApp) {}

  get page(): Page {
    return this.app.page;
  }
  get panel(): Locator {
    return this.page.getByTestId('maintenance');
  }

  async open(url: string, dev: string): Promise<void> {
    await this.page.goto(`${url}/console/#/devices/${dev}`);
    await this.panel.locator('[data-testid="last-bump"]').waitFor({ state: 'visible', timeout: 15_000 });
  }

  /** 'true' or 'false' once loaded. */
  fit(): Promise<string | null> {
    return this.panel.getAttribute('data-fit');
  }
  /** The verdict as shown. */
  async verdict(): Promise<string> {
    return ((await this.page.getByTestId('fitness').locator('.el-tag').textContent()) ?? '').trim();
  }
  /** The lockout reasons as ids and as words. */
  async reasons(): Promise<[string, string][]> {
    return this.panel
      .locator('[data-testid="lockout-reasons"] li')
      .evaluateAll((lis) =>
        lis.map((li) => [li.getAttribute('data-reason') ?? '', (li.textContent ?? '').trim()]),
      );
  }
  /** Each due date: item, level (ok, soon, over, none) and its words, part by part. */
  async dates(): Promise<[string, string, string][]> {
    return this.panel
      .getByTestId('due-date')
      .evaluateAll((lis) =>
        lis.map((li) => [
          li.getAttribute('data-item') ?? '',
          li.getAttribute('data-level') ?? '',
          [...li.children].map((c) => (c.textContent ?? '').trim()).join(' '),
        ]),
      );
  }
  async text(testId: 'last-bump' | 'last-calibration' | 'start-answer'): Promise<string> {
    return ((await this.panel.getByTestId(testId).textContent()) ?? '').replace(/\s+/g, ' ').trim();
  }
  async buttons(): Promise<number> {
    return this.panel
      .locator('[data-testid="start-bump"], [data-testid="record-bump"], [data-testid="record-calibration"]')
      .count();
  }

  /** Records a calibration through its dialog: passed, next due `nextDue`, by and certificate. */
  async recordCalibration(c: { nextDue: string; by: string; certificate: string }): Promise<void> {
    await this.panel.getByTestId('record-calibration').click();
    const dialog = this.page.getByTestId('calibration-dialog');
    await dialog.getByTestId('cal-next-due').waitFor({ state: 'visible', timeout: 5_000 });
    await dialog.getByTestId('cal-next-due').fill(c.nextDue);
    await dialog.getByTestId('cal-by').fill(c.by);
    await dialog.getByTestId('cal-certificate').fill(c.certificate);
    await this.page.getByTestId('cal-submit').click();
    await dialog.getByTestId('cal-next-due').waitFor({ state: 'hidden', timeout: 10_000 });
  }

  /** Opens the bump test dialog, fills it, submits; `peaks` per gas; `fail` fails those gases. */
  async recordBumpTest(b: {
    method: string;
    result: 'pass' | 'fail';
    peaks: Record<string, number>;
    fail?: string[];
    by: string;
  }): Promise<void> {
    await this.panel.getByTestId('record-bump').click();
    const dialog = this.page.getByTestId('bump-dialog');
    await dialog.getByTestId('bump-method').waitFor({ state: 'visible', timeout: 5_000 });
    await dialog.getByTestId('bump-method').selectOption(b.method);
    await dialog.getByTestId('bump-result').selectOption(b.result);
    for (const [gas, peak] of Object.entries(b.peaks)) {
      const row = dialog.locator(`[data-testid="bump-gas"][data-gas="${gas}"]`);
      await row.getByTestId('bump-gas-peak').fill(String(peak));
      if (b.fail?.includes(gas)) await row.getByTestId('bump-gas-result').selectOption('fail');
    }
    await dialog.getByTestId('bump-by').fill(b.by);
    await this.page.getByTestId('bump-submit').click();
  }
  /** The gases the open bump test dialog asks about, in its order. */
  async dialogGases(): Promise<string[]> {
    return this.page
      .getByTestId('bump-dialog')
      .getByTestId('bump-gas')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-gas') ?? ''));
  }
  /** The dialog's own refusal ('' while none). */
  async bumpProblem(): Promise<string> {
    const p = this.page.getByTestId('bump-problem');
    return (await p.isVisible()) ? ((await p.textContent()) ?? '').trim() : '';
  }
  async bumpDialogClosed(): Promise<void> {
    await this.page
      .getByTestId('bump-dialog')
      .getByTestId('bump-method')
      .waitFor({ state: 'hidden', timeout: 10_000 });
  }

  /** A screenshot of the panel alone, once the toasts over the page are gone. */
  async screenshot(path: string): Promise<void> {
    await this.page.locator('.el-message').first().waitFor({ state: 'detached', timeout: 10_000 });
    await this.page.mouse.move(0, 0);
    await this.panel.screenshot({ path });
  }

  /** Starts a bump test through the gateway: the button, then the confirmation. */
  async startBumpTest(): Promise<void> {
    await this.panel.getByTestId('start-bump').click();
    const ok = this.page.locator('.el-message-box .el-button--primary');
    await ok.waitFor({ state: 'visible', timeout: 5_000 });
    await ok.click();
    await this.panel.getByTestId('start-answer').waitFor({ state: 'visible', timeout: 10_000 });
  }
}
