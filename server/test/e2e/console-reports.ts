import type { Download, Locator, Page } from 'playwright-core';
import type { ConsoleApp } from './console-app.js';

/** The console's weekly-ledger page (`/#/reports`) as a supervisor or a viewer uses it. */
export class ReportsPage {
  constructor(readonly app: ConsoleApp) {}

  get page(): Page {
    return this.app.page;
  }
  get root(): Locator {
    return this.page.getByTestId('reports');
  }
  get form(): Locator {
    return this.root.getByTestId('ledger-form');
  }
  get rows(): Locator {
    return this.root.getByTestId('ledger-row');
  }

  /** Opens the page from the menu and waits for it. */
  async open(): Promise<void> {
    await this.page.getByTestId('nav-reports').click();
    await this.root.waitFor({ timeout: 10_000 });
  }

  /** Makes the ledger of `area` (an option's value) for the week of `day` (empty: the last week). */
  async make(area: string, day = ''): Promise<void> {
    await this.form.getByTestId('ledger-area').selectOption(area);
    if (day !== '') await this.form.getByTestId('ledger-week').fill(day);
    await this.form.getByTestId('ledger-make').click();
  }

  /** Clicks a row's download button and waits for the file. */
  async download(row: Locator, format: 'xlsx' | 'pdf'): Promise<Download> {
    const [file] = await Promise.all([
      this.page.waitForEvent('download'),
      row.getByTestId(`ledger-${format}`).click(),
    ]);
    return file;
  }
}
