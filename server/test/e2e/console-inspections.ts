import type { Locator, Page } from 'playwright-core';
import type { ConsoleApp } from './console-app.js';

type Result = 'found' | 'not_found' | 'n/a';

/**
 * The console's home-visit pages as a grid worker uses them: the visits on a household's card
 * (`#/households/:id`), the visit form (`#/households/:id/inspect`) and the overdue list
 * (`#/inspections/overdue`).
 */
export class InspectionPages {
  constructor(readonly app: ConsoleApp) {}

  get page(): Page {
    return this.app.page;
  }

  // ---- On the household's card

  get section(): Locator {
    return this.page.getByTestId('household-inspections');
  }
  get recordButton(): Locator {
    return this.section.getByTestId('inspection-record');
  }
  get visits(): Locator {
    return this.section.getByTestId('inspection-visit');
  }
  visit(id: string): Locator {
    return this.section.locator(`[data-testid="inspection-visit"][data-inspection="${id}"]`);
  }

  async openHousehold(baseUrl: string, household: string): Promise<void> {
    await this.page.goto(`${baseUrl}/console/#/households/${household}`);
    await this.section.waitFor({ timeout: 10_000 });
  }

  /** Marks a visit's rectification rectified or not, with a note, through its inline form. */
  async rectify(id: string, outcome: 'rectified' | 'not_rectified', note: string): Promise<void> {
    const v = this.visit(id);
    await v.getByTestId('rectify-open').click();
    await v.getByTestId('rectify-note').fill(note);
    await v.getByTestId(outcome === 'rectified' ? 'rectify-rectified' : 'rectify-not-rectified').click();
    await v.getByTestId('rectify-form').waitFor({ state: 'detached', timeout: 10_000 });
  }

  // ---- The form

  get form(): Locator {
    return this.page.getByTestId('inspection-form');
  }
  get date(): Locator {
    return this.form.getByTestId('insp-date');
  }
  get inspectors(): Locator {
    return this.form.getByTestId('insp-inspector');
  }
  get deadline(): Locator {
    return this.form.getByTestId('insp-deadline');
  }
  get progress(): Locator {
    return this.form.getByTestId('insp-progress');
  }
  get sendError(): Locator {
    return this.form.getByTestId('insp-send-error');
  }
  get restored(): Locator {
    return this.form.getByTestId('insp-restored');
  }
  item(id: string): Locator {
    return this.form.locator(`[data-testid="insp-item"][data-item="${id}"]`);
  }
  /** The problem shown under a field ('date', 'deadline', 'item:<id>'…), as a locator. */
  fieldError(field: string): Locator {
    return this.form.locator(`[data-testid="insp-error"][data-field="${field}"]`);
  }

  async addInspector(name: string): Promise<void> {
    await this.form.getByTestId('insp-add-inspector').click();
    await this.inspectors.last().fill(name);
  }
  async setResult(item: string, result: Result): Promise<void> {
    await this.item(item).locator(`button[data-result="${result}"]`).click();
  }
  async noteItem(item: string, note: string): Promise<void> {
    await this.item(item).getByTestId('insp-item-note').fill(note);
  }
  /** Takes a "photo" of an item: the file as the phone's camera would hand it over. */
  async addPhoto(item: string, file: { name: string; mimeType: string; buffer: Buffer }): Promise<void> {
    await this.item(item).getByTestId('insp-photo-input').setInputFiles(file);
  }
  photos(item: string): Locator {
    return this.item(item).getByTestId('insp-photo');
  }
  async restNotFound(): Promise<void> {
    await this.form.getByTestId('insp-rest-not-found').click();
  }
  async submit(): Promise<void> {
    await this.form.getByTestId('insp-submit').click();
  }

  // ---- The overdue list

  get overdue(): Locator {
    return this.page.getByTestId('overdue-inspections');
  }
  get overdueRows(): Locator {
    return this.overdue.getByTestId('overdue-row');
  }

  /** True when the page is no wider than the window (nothing to scroll sideways on a phone). */
  async fitsWidth(): Promise<boolean> {
    return (await this.page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')) as boolean;
  }
}
