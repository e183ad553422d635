import type { Locator, Page } from 'playwright-core';
import type { ConsoleApp } from './console-app.js';

/**
 * The console's device list (#/devices) and device page (#/devices/:id) as a person uses them,
 * in a ConsoleApp already logged in. What the tests read comes from what the pages show and the
 * data attributes they expose (status ids, chart points and set points, the bucket length).
 */
export class DevicesPage {
  /** Every /api/readings request the page made, in order (its query string parsed). */
  readonly readingRequests: URLSearchParams[] = [];
  /** Every /api/devices list request the page made. */
  readonly listRequests: URLSearchParams[] = [];

  constructor(readonly app: ConsoleApp) {
    app.page.on('request', (r) => {
      const url = new URL(r.url());
      if (url.pathname === '/api/readings') this.readingRequests.push(url.searchParams);
      if (url.pathname === '/api/devices') this.listRequests.push(url.searchParams);
    });
  }

  get page(): Page {
    return this.app.page;
  }

  /** Opens the list through the menu (the tab bar on a phone). */
  async open(): Promise<void> {
    await this.page.getByTestId('nav-devices').click();
    await this.page.getByTestId('devices').waitFor({ state: 'visible', timeout: 10_000 });
  }

  get list(): Locator {
    return this.page.getByTestId('devices');
  }
  rows(): Locator {
    return this.page.getByTestId('device');
  }
  row(dev: string): Locator {
    return this.page.locator(`[data-testid="device"][data-device="${dev}"]`);
  }
  /** The ids listed, in order. */
  async ids(): Promise<string[]> {
    return this.rows().evaluateAll((rows) => rows.map((r) => r.getAttribute('data-device') ?? ''));
  }
  /** The status ids of a row (alarm, online, offline, warmup, fault, overRange…). */
  async status(dev: string): Promise<string[]> {
    return ((await this.row(dev).getAttribute('data-status')) ?? '').split(' ').filter(Boolean);
  }
  /** The total the list says, as a number and as its words. */
  async total(): Promise<{ n: number; text: string }> {
    const el = this.page.getByTestId('device-total');
    return { n: Number(await el.getAttribute('data-total')), text: ((await el.textContent()) ?? '').trim() };
  }
  async filterArea(id: string | null): Promise<void> {
    await this.page.getByTestId('area-filter').selectOption(id ?? '');
  }
  /** Types into the search box; the list asks the server once typing pauses. */
  async search(text: string): Promise<void> {
    await this.page.getByTestId('device-search').fill(text);
  }
  async filterState(state: 'online' | 'offline' | null): Promise<void> {
    await this.page.getByTestId('state-filter').selectOption(state ?? '');
  }
  async filterKind(kind: string | null): Promise<void> {
    await this.page.getByTestId('kind-filter').selectOption(kind ?? '');
  }
  async clearFilters(): Promise<void> {
    await this.page.getByTestId('clear-filters').click();
  }
  /** "50 of 300 shown", as shown under the list. */
  async shown(): Promise<string> {
    return ((await this.page.getByTestId('device-shown').textContent()) ?? '').trim();
  }
  loadMore(): Locator {
    return this.page.getByTestId('load-more');
  }
  /** The area filter's choices, as shown. */
  async areaChoices(): Promise<string[]> {
    return this.page
      .getByTestId('area-filter')
      .locator('option')
      .evaluateAll((os) => os.map((o) => (o.textContent ?? '').trim()));
  }

  /** Opens a device's page from its row. */
  async openDevice(dev: string): Promise<void> {
    await this.row(dev).click();
    await this.page
      .locator(`[data-testid="device-page"][data-device="${dev}"] [data-testid="trend"]`)
      .waitFor({ state: 'visible', timeout: 10_000 });
  }
  chart(gas: string): Locator {
    return this.page.locator(`[data-testid="readings-chart"][data-gas="${gas}"]`);
  }
  /** What a gas's chart says it draws: points, set points, and whether a canvas is there. */
  async chartInfo(gas: string): Promise<{ points: number; thresholds: string; canvas: boolean }> {
    const c = this.chart(gas);
    return {
      points: Number(await c.getAttribute('data-points')),
      thresholds: (await c.getAttribute('data-thresholds')) ?? '',
      canvas: (await c.locator('canvas').count()) > 0,
    };
  }
  /** The bucket length the chart was loaded with (the `every` of its request). */
  async every(): Promise<string> {
    return (await this.page.getByTestId('bucket').getAttribute('data-every')) ?? '';
  }
  async pickRange(id: string): Promise<void> {
    await this.page.getByTestId(`range-${id}`).click();
  }
  /** Interlock outputs shown: name → [position, words]. */
  async outputs(): Promise<Record<string, [string, string]>> {
    return this.page
      .getByTestId('output')
      .evaluateAll((els) =>
        Object.fromEntries(
          els.map((e) => [
            e.getAttribute('data-output') ?? '',
            [e.getAttribute('data-position') ?? '', (e.textContent ?? '').trim()],
          ]),
        ),
      );
  }
  interlock(): Locator {
    return this.page.getByTestId('interlock');
  }
  deviceAlarms(): Locator {
    return this.page.getByTestId('device-alarm');
  }
  events(): Locator {
    return this.page.getByTestId('device-event');
  }

  /** How far the page is wider than the window (0: nothing to scroll sideways). */
  async overflowX(): Promise<number> {
    return (await this.page.evaluate(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    )) as number;
  }

  /**
   * A screenshot of the whole page. The viewport is made as tall as the page first: a full-page
   * screenshot would leave the phone's fixed tab bar where the viewport ended, mid-page.
   */
  async screenshot(path: string): Promise<void> {
    const size = this.page.viewportSize() ?? { width: 1400, height: 900 };
    const height = (await this.page.evaluate('document.documentElement.scrollHeight')) as number;
    await this.page.mouse.move(0, 0);
    await this.page.setViewportSize({ width: size.width, height: Math.max(size.height, height) });
    // The charts follow their box's width only; one frame for the layout to settle.
    await this.page.evaluate('new Promise((r) => requestAnimationFrame(() => r(null)))');
    await this.page.screenshot({ path });
    await this.page.setViewportSize(size);
  }
}
