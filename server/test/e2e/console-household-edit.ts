import type { Locator, Page } from 'playwright-core';
import type { ConsoleApp } from './console-app.js';

/** A file as the page's file input or a drop hands it over. */
export interface SheetFile {
  name: string;
  mimeType: string;
  buffer: Buffer;
}

/** One refused cell as the import page lists it. */
export interface ListedIssue {
  row: number;
  field: string;
  code: string;
  column: string;
  reason: string;
}

/**
 * The console's pages that change the household registry, as a supervisor uses them: the import
 * (`#/households/import`), the household form (`#/households/new`, `#/households/:id/edit`) and
 * the detectors panel on a household's card.
 */
export class HouseholdEditPages {
  constructor(readonly app: ConsoleApp) {}

  get page(): Page {
    return this.app.page;
  }

  // ---- The list's buttons

  get newButton(): Locator {
    return this.page.getByTestId('household-new');
  }
  get importButton(): Locator {
    return this.page.getByTestId('household-import-open');
  }

  // ---- The import

  get importPage(): Locator {
    return this.page.getByTestId('household-import');
  }
  get check(): Locator {
    return this.importPage.getByTestId('import-check');
  }
  get apply(): Locator {
    return this.importPage.getByTestId('import-apply');
  }
  get errors(): Locator {
    return this.importPage.getByTestId('import-error');
  }
  get clean(): Locator {
    return this.importPage.getByTestId('import-clean');
  }
  get result(): Locator {
    return this.importPage.getByTestId('import-result');
  }
  get problem(): Locator {
    return this.importPage.getByTestId('import-problem');
  }

  /** Chooses the file with the page's file input. */
  async pick(file: SheetFile): Promise<void> {
    await this.importPage.getByTestId('import-file').setInputFiles(file);
    await this.importPage
      .getByTestId('import-file-name')
      .filter({ hasText: file.name })
      .waitFor({ timeout: 5_000 });
  }

  /** Drops the file on the page's drop zone, as a file dragged from the desktop. */
  async drop(file: SheetFile): Promise<void> {
    // In the page (the test's own types have no DOM): a DataTransfer holding the file.
    const transfer = await this.page.evaluateHandle(`(() => {
      const bytes = Uint8Array.from(atob(${JSON.stringify(file.buffer.toString('base64'))}), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], ${JSON.stringify(file.name)}, { type: ${JSON.stringify(file.mimeType)} }));
      return dt;
    })()`);
    await this.importPage.getByTestId('import-drop').dispatchEvent('drop', { dataTransfer: transfer });
    await this.importPage
      .getByTestId('import-file-name')
      .filter({ hasText: file.name })
      .waitFor({ timeout: 5_000 });
  }

  /** The refused cells listed, in the table's order. */
  async listedIssues(): Promise<ListedIssue[]> {
    const out: ListedIssue[] = [];
    for (const row of await this.errors.all())
      out.push({
        row: Number(await row.getAttribute('data-row')),
        field: (await row.getAttribute('data-field')) ?? '',
        code: (await row.getAttribute('data-code')) ?? '',
        column: ((await row.getByTestId('import-error-column').textContent()) ?? '').trim(),
        reason: ((await row.getByTestId('import-error-reason').textContent()) ?? '').trim(),
      });
    return out;
  }

  // ---- The household form

  get form(): Locator {
    return this.page.getByTestId('household-form');
  }
  field(id: string): Locator {
    return this.form.getByTestId(`hh-${id}`);
  }
  get contacts(): Locator {
    return this.form.getByTestId('hh-contact');
  }
  /** The problem shown under a field ('id', 'address', 'contact:0:phone'…). */
  fieldError(field: string): Locator {
    return this.form.locator(`[data-testid="hh-error"][data-field="${field}"]`);
  }

  async addContact(name: string, relation: string, phone: string): Promise<void> {
    await this.form.getByTestId('hh-add-contact').click();
    const c = this.contacts.last();
    await c.getByTestId('hh-contact-name').fill(name);
    await c.getByTestId('hh-contact-relation').selectOption(relation);
    await c.getByTestId('hh-contact-phone').fill(phone);
  }
  async setFlag(flag: string): Promise<void> {
    await this.form.locator(`[data-testid="hh-flag"][data-flag="${flag}"]`).check();
  }
  async setHeating(kind: string): Promise<void> {
    await this.form.locator(`[data-testid="hh-heating"][data-heating="${kind}"]`).check();
  }
  async save(): Promise<void> {
    await this.field('save').click();
  }

  // ---- The household's card

  get card(): Locator {
    return this.page.getByTestId('household-page');
  }
  get detectors(): Locator {
    return this.card.getByTestId('household-detectors');
  }
  detector(device: string): Locator {
    return this.detectors.locator(`[data-testid="det-row"][data-device="${device}"]`);
  }
  get detectorForm(): Locator {
    return this.detectors.getByTestId('det-form');
  }

  async openHousehold(baseUrl: string, id: string): Promise<void> {
    await this.page.goto(`${baseUrl}/console/#/households/${id}`);
    await this.detectors.waitFor({ timeout: 10_000 });
  }

  /** Removes a detector with its button and the confirmation. */
  async removeDetector(device: string): Promise<void> {
    await this.detector(device).getByTestId('det-remove').click();
    await this.page.locator('.det-remove-ok').click();
    await this.detector(device).waitFor({ state: 'detached', timeout: 10_000 });
  }

  /** True when the page is no wider than the window (nothing to scroll sideways on a phone). */
  async fitsWidth(): Promise<boolean> {
    return (await this.page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')) as boolean;
  }
}
