import type { Locator, Page } from 'playwright-core';
import type { ConsoleApp } from './console-app.js';

/** Waits until an input or textarea holds something (a form filled after it was loaded). */
async function expectFilled(l: Locator): Promise<void> {
  for (let i = 0; i < 100 && (await l.inputValue()) === ''; i++) await l.page().waitForTimeout(100);
  if ((await l.inputValue()) === '') throw new Error('the form was not filled');
}

/**
 * The permit pages (#/spaces, #/permits, #/permits/new, #/permits/:id, #/permits/:id/test) as a
 * person uses them, in a ConsoleApp already logged in. What the tests read comes from what the
 * pages show and their data attributes.
 */
export class PermitPages {
  constructor(
    readonly app: ConsoleApp,
    readonly url: string,
  ) {}

  get page(): Page {
    return this.app.page;
  }
  private async go(hash: string, ready: string): Promise<void> {
    await this.page.goto(`${this.url}/console/#${hash}`);
    await this.page.getByTestId(ready).waitFor({ state: 'visible', timeout: 15_000 });
  }
  /** A time as the page's datetime-local inputs take it, in the browser's own zone. */
  private localTime(ms: number): Promise<string> {
    return this.page.evaluate((t) => {
      const d = new Date(t);
      const p = (n: number) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
    }, ms);
  }
  /** Waits for the page's toasts (ElMessage) to go, so a screenshot shows the page itself. */
  async calm(): Promise<void> {
    await this.page.locator('.el-message').first().waitFor({ state: 'detached', timeout: 10_000 });
  }
  async text(l: Locator): Promise<string> {
    return ((await l.textContent()) ?? '').replace(/\s+/g, ' ').trim();
  }

  // ---- The register

  async openSpaces(): Promise<void> {
    await this.go('/spaces', 'spaces');
  }
  async registerSpace(s: {
    id: string;
    name: string;
    area: string;
    site: string;
    location: string;
    kind: string;
    hazards: string[];
    gases: string[];
    large: boolean;
  }): Promise<void> {
    await this.page.getByTestId('space-add').click();
    const form = this.page.getByTestId('space-form');
    await form.getByTestId('space-id').waitFor({ state: 'visible', timeout: 5_000 });
    await form.getByTestId('space-id').fill(s.id);
    await form.getByTestId('space-name').fill(s.name);
    await form.getByTestId('space-area').selectOption(s.area);
    await form.getByTestId('space-site').fill(s.site);
    await form.getByTestId('space-location').fill(s.location);
    await form.getByTestId('space-kind').selectOption(s.kind);
    for (const h of s.hazards) await form.getByTestId(`space-hazard-${h}`).check();
    for (const g of s.gases) await form.getByTestId(`space-gas-${g}`).check();
    if (s.large) await form.getByTestId('space-large').check();
    await form.getByTestId('space-save').click();
    await this.page.locator(`[data-testid="space-row"][data-space="${s.id}"]`).waitFor({ timeout: 10_000 });
  }

  // ---- Drawing up

  async openNewPermit(space?: string): Promise<void> {
    await this.go(space === undefined ? '/permits/new' : `/permits/new?space=${space}`, 'permit-form');
  }
  async fillPermit(f: {
    kind?: 'confined_space' | 'hot_work';
    level?: string;
    area?: string;
    site?: string;
    location?: string;
    work: string;
    applicant: string;
    unit: string;
    crew: { name: string; certificate: string };
    attendant: string;
    measures: string[];
    start: number;
    end: number;
  }): Promise<void> {
    const form = this.page.getByTestId('permit-form');
    if (f.kind !== undefined) await form.getByTestId(`pf-kind-${f.kind}`).check();
    if (f.level !== undefined) await form.getByTestId(`pf-level-${f.level}`).check();
    if (f.area !== undefined) await form.getByTestId('pf-area').selectOption(f.area);
    if (f.site !== undefined) await form.getByTestId('pf-site').fill(f.site);
    if (f.location !== undefined) await form.getByTestId('pf-location').fill(f.location);
    await form.getByTestId('pf-work').fill(f.work);
    await form.getByTestId('pf-applicant').fill(f.applicant);
    await form.getByTestId('pf-applicant-unit').fill(f.unit);
    await form.getByTestId('pf-crew-name').first().fill(f.crew.name);
    await form.getByTestId('pf-crew-certificate').first().fill(f.crew.certificate);
    await form.getByTestId('pf-attendant').fill(f.attendant);
    for (const m of f.measures) await form.getByTestId(`pf-measure-${m}`).check();
    await form.getByTestId('pf-start').fill(await this.localTime(f.start));
    await form.getByTestId('pf-end').fill(await this.localTime(f.end));
  }
  /** Opens a draft's form from its page (编辑), once it is filled with the draft. */
  async editPermit(): Promise<void> {
    await this.page.getByTestId('permit-edit').click();
    await this.page
      .locator('[data-testid="permit-form"] form[data-editing="true"]')
      .waitFor({ timeout: 10_000 });
    await expectFilled(this.page.getByTestId('pf-work'));
  }
  /** Types the planned window (ms), as the form's datetime-local inputs take it. */
  async setWindow(start: number, end: number): Promise<void> {
    await this.page.getByTestId('pf-start').fill(await this.localTime(start));
    await this.page.getByTestId('pf-end').fill(await this.localTime(end));
  }
  /** The words under a field of the form (`attendant-phone`, `plannedEnd`), once shown. */
  async fieldError(field: string): Promise<string> {
    const l = this.page.getByTestId(`pf-error-${field}`);
    await l.waitFor({ state: 'visible', timeout: 10_000 });
    return this.text(l);
  }
  /** Submits the form; the new permit's id once its page is shown. */
  async submitPermit(): Promise<string> {
    await this.page.getByTestId('pf-submit').click();
    await this.page.getByTestId('permit-actions').waitFor({ state: 'visible', timeout: 10_000 });
    const m = /#\/permits\/([^/?]+)/.exec(this.page.url());
    if (m === null) throw new Error(`not on a permit page: ${this.page.url()}`);
    return decodeURIComponent(m[1] as string);
  }

  // ---- The permit

  async openPermit(id: string): Promise<void> {
    await this.go(`/permits/${id}`, 'permit-actions');
  }
  state(): Promise<string | null> {
    return this.page.getByTestId('permit-page').getAttribute('data-state');
  }
  action(name: string): Locator {
    return this.page.getByTestId(`action-${name}`);
  }
  /** Whether the action is offered ('true' / 'false'), null when it is not shown at all. */
  async allowed(name: string): Promise<string | null> {
    const a = this.action(name);
    return (await a.count()) === 0 ? null : a.getAttribute('data-allowed');
  }
  /** Every reason an action is refused, as [code, words]. */
  refusals(name: string): Promise<[string, string][]> {
    return this.action(name)
      .locator('[data-testid="refusals"] li')
      .evaluateAll((lis) =>
        lis.map((li) => [li.getAttribute('data-code') ?? '', (li.textContent ?? '').trim()]),
      );
  }
  /** Takes an action through its button and dialog, and waits for the state it leads to. */
  async take(name: string, note: string, then: string): Promise<void> {
    await this.action(name).locator('button').click();
    const box = this.page.getByTestId('action-note');
    await box.waitFor({ state: 'visible', timeout: 5_000 });
    await box.fill(note);
    await this.page.getByTestId('action-confirm').click();
    await this.page.locator(`[data-testid="permit-page"][data-state="${then}"]`).waitFor({ timeout: 15_000 });
  }
  async confirmMeasures(): Promise<void> {
    for (let i = 0; i < 20; i++) {
      const next = this.page.getByTestId('measure-confirm').first();
      if ((await next.count()) === 0) return;
      const before = await this.page.locator('[data-testid="permit-measure"][data-confirmed="true"]').count();
      await next.click();
      await this.page
        .locator('[data-testid="permit-measure"][data-confirmed="true"]')
        .nth(before)
        .waitFor({ timeout: 10_000 });
    }
  }
  events(): Promise<[string, string][]> {
    return this.page
      .getByTestId('permit-event')
      .evaluateAll((lis) =>
        lis.map((li) => [li.getAttribute('data-action') ?? '', li.getAttribute('data-by') ?? '']),
      );
  }

  // ---- The gas test

  async openTest(id: string): Promise<void> {
    await this.go(`/permits/${id}/test`, 'gas-test');
  }
  detector(dev: string): Locator {
    return this.page.locator(`[data-testid="test-detector"][data-device="${dev}"]`);
  }
  /** Starts a test with the detector (or `instrument`), its response time `t90` s. */
  async startTest(source: { device: string } | { instrument: string }, t90: number): Promise<void> {
    const start = this.page.getByTestId('test-start');
    if ('device' in source) await this.detector(source.device).locator('input[type="radio"]').check();
    else {
      await start.getByTestId('test-instrument').check();
      await start.getByTestId('instrument-id').fill(source.instrument);
    }
    await start.getByTestId('test-t90').fill(String(t90));
    await start.getByTestId('test-begin').click();
    await this.page.getByTestId('test-step').waitFor({ state: 'visible', timeout: 10_000 });
  }
  /** The position the test goes on at. */
  position(): Promise<string | null> {
    return this.page.getByTestId('test-step').getAttribute('data-position');
  }
  /** The gases read here, in the order the page asks for them. */
  gasesHere(): Promise<string[]> {
    return this.page
      .getByTestId('test-gas')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-gas') ?? ''));
  }
  async place(): Promise<void> {
    await this.page.getByTestId('test-place').click();
    await this.page.getByTestId('test-record').waitFor({ state: 'visible', timeout: 10_000 });
  }
  /** Records the position once its hold is over (typing `values` for an instrument); waits for its readings. */
  async record(position: string, gases: number, values?: number[]): Promise<void> {
    const button = this.page.getByTestId('test-record');
    if (values !== undefined) {
      const inputs = this.page.getByTestId('test-manual-value');
      for (const [i, v] of values.entries()) await inputs.nth(i).fill(String(v));
    }
    await this.page
      .locator('[data-testid="test-record"]:not([disabled]):not(.is-disabled)')
      .waitFor({ timeout: 30_000 });
    await button.click();
    await this.page
      .locator(`[data-testid="test-reading"][data-position="${position}"]`)
      .nth(gases - 1)
      .waitFor({ timeout: 30_000 });
  }
  /** Each reading shown as [position, gas, pass]. */
  readings(): Promise<[string, string, string][]> {
    return this.page
      .getByTestId('test-reading')
      .evaluateAll((rows) =>
        rows.map((r) => [
          r.getAttribute('data-position') ?? '',
          r.getAttribute('data-gas') ?? '',
          r.getAttribute('data-pass') ?? '',
        ]),
      );
  }
  outcome(): Locator {
    return this.page.getByTestId('test-outcome');
  }
}
