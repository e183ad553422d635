import type { Locator, Page } from 'playwright-core';
import type { ConsoleApp } from './console-app.js';

/** The four counts of a shift report, as its tiles show them. */
export interface ShiftCounts {
  raised: number;
  acknowledged: number;
  resolved: number;
  open: number;
}

/** The console's Shift handover page (`/#/shifts`) as an operator or a viewer uses it. */
export class ShiftsPage {
  constructor(readonly app: ConsoleApp) {}

  get page(): Page {
    return this.app.page;
  }
  get root(): Locator {
    return this.page.getByTestId('shifts');
  }
  get stats(): Locator {
    return this.root.getByTestId('shift-stats');
  }
  get notes(): Locator {
    return this.root.getByTestId('shift-note');
  }
  get openAlarms(): Locator {
    return this.root.getByTestId('open-alarm');
  }
  /** The current shift's response-time rows (overall first, then one per operator). */
  get times(): Locator {
    return this.root.getByTestId('shift-times').getByTestId('rt-row');
  }
  get form(): Locator {
    return this.root.getByTestId('handover-form');
  }
  get handoverButton(): Locator {
    return this.root.getByTestId('handover');
  }
  get pending(): Locator {
    return this.root.getByTestId('pending-handover');
  }
  get confirmButton(): Locator {
    return this.root.getByTestId('confirm-shift');
  }
  get previousConfirmed(): Locator {
    return this.root.getByTestId('previous-confirmed');
  }
  get history(): Locator {
    return this.root.getByTestId('history-row');
  }
  /** The response-times section over a range: its per-shift rows. */
  get rangeShifts(): Locator {
    return this.root.getByTestId('range-shifts').getByTestId('rt-row');
  }
  get rangeOperators(): Locator {
    return this.root.getByTestId('range-operators').getByTestId('rt-row');
  }

  /** Opens the page from the menu (the header's at desk width, the tab bar on a phone). */
  async open(): Promise<void> {
    await this.page.getByTestId('nav-shifts').click();
    await this.stats.waitFor({ timeout: 15_000 });
  }

  async counts(): Promise<ShiftCounts> {
    const n = async (k: keyof ShiftCounts) => Number(await this.stats.getAttribute(`data-${k}`));
    return {
      raised: await n('raised'),
      acknowledged: await n('acknowledged'),
      resolved: await n('resolved'),
      open: await n('open'),
    };
  }

  private textarea(id: string): Locator {
    return this.page.locator(`textarea[data-testid="${id}"], [data-testid="${id}"] textarea`).first();
  }

  /**
   * Hands over with `note`: the button double-clicked (as a hurried operator does), then the
   * confirm box's OK.
   */
  async handOver(note: string): Promise<void> {
    await this.textarea('handover-note').fill(note);
    await this.handoverButton.dblclick();
    const ok = this.page.locator('.el-message-box .handover-ok');
    await ok.waitFor({ timeout: 5_000 });
    await ok.click();
    await this.pending.waitFor({ timeout: 10_000 });
  }

  /** Opens the takeover dialog and fills its note; `submit` sends it. */
  async startConfirm(note: string): Promise<void> {
    await this.confirmButton.click();
    await this.textarea('confirm-note').waitFor({ timeout: 5_000 });
    await this.textarea('confirm-note').fill(note);
  }
  async submitConfirm(): Promise<void> {
    await this.page.getByTestId('confirm-submit').click();
  }

  /** The text of the last message toast of `type`, once one shows. */
  async message(type: 'success' | 'error'): Promise<string> {
    const m = this.page.locator(`.el-message--${type} .el-message__content`).last();
    await m.waitFor({ timeout: 10_000 });
    return ((await m.textContent()) ?? '').trim();
  }

  /** Waits until no toast is on screen (for screenshots). */
  async noMessages(): Promise<void> {
    await this.page.waitForFunction("document.querySelectorAll('.el-message').length === 0", null, {
      timeout: 10_000,
    });
  }
}
