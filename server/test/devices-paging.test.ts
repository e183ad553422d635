import type { DeviceState } from '@gaswatch/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, reading, startTestServer, type TestServer } from './helpers.js';

/**
 * GET /api/devices over a city's registry (issue 18): 100 000 devices, paged with a cursor and
 * filtered on the server; every device matching is found exactly once and the total says how
 * many match. The registry is seeded in process (as ingest records them), not over MQTT one by one.
 */
const N = 100_000;
const KINDS = ['household-co', 'household-co', 'combustible'] as const;
const kindOf = (i: number) => KINDS[i % 3] as (typeof KINDS)[number];
const siteOf = (i: number) => `site-${i % 50}`;
/** Every tenth device has reported just now (online); the rest never did (offline). */
const onlineOf = (i: number) => i % 10 === 0;

type Page = { devices: { id: string; online: boolean }[]; total: number; nextCursor: string | null };

describe('GET /api/devices with 100 000 devices', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    const now = Date.now();
    for (let i = 0; i < N; i++) {
      const gw = `gw-${i % 40}`;
      const dev = `d${i}`;
      const state: DeviceState = {
        v: 1,
        ts: new Date(now).toISOString(),
        online: true,
        model: 'gaswatch-co',
        kind: kindOf(i),
        site: siteOf(i),
        location: i % 2 === 0 ? 'Kitchen' : 'bedroom',
        lastError: null,
      };
      server.app.devices.observeState(gw, dev, state);
      if (onlineOf(i)) server.app.devices.observeReading(gw, dev, reading(0, now), now, now);
    }
  }, 120_000);
  afterAll(() => server?.close());

  /** Walks every page of `query`; returns the ids in order and the totals each page reported. */
  async function walk(query: string, limit: number): Promise<{ ids: string[]; totals: Set<number> }> {
    const ids: string[] = [];
    const totals = new Set<number>();
    let cursor: string | null = null;
    for (let pages = 0; pages < N / limit + 2; pages++) {
      const q: string = `${query}&limit=${limit}${cursor === null ? '' : `&cursor=${cursor}`}`;
      const { status, body }: { status: number; body: Page } = await getJson<Page>(
        `${server.url}/api/devices?${q}`,
      );
      expect(status).toBe(200);
      expect(body.devices.length).toBeLessThanOrEqual(limit);
      ids.push(...body.devices.map((d) => d.id));
      totals.add(body.total);
      cursor = body.nextCursor;
      if (cursor === null) return { ids, totals };
    }
    throw new Error(`${query}: more pages than devices`);
  }

  const expectEachOnce = (ids: string[], expected: (i: number) => boolean) => {
    const want = Array.from({ length: N }, (_, i) => i)
      .filter(expected)
      .map((i) => `d${i}`);
    expect(new Set(ids).size).toBe(ids.length); // none twice
    expect([...ids].sort()).toEqual(want.sort()); // every one, nothing else
    expect(ids).toEqual([...ids].sort()); // in id order across pages
  };

  it('pages through all of them, each exactly once, with the total on every page', async () => {
    const { ids, totals } = await walk('', 10_000);
    expect([...totals]).toEqual([N]);
    expectEachOnce(ids, () => true);
  }, 120_000);

  it('filters on the server by kind, state, site and text, and counts what matches', async () => {
    const combustibleOnline = await walk('kind=combustible&state=online', 1_000);
    const want = (i: number) => kindOf(i) === 'combustible' && onlineOf(i);
    expectEachOnce(combustibleOnline.ids, want);
    expect([...combustibleOnline.totals]).toEqual([3_333]); // i ≡ 20 (mod 30)

    // text matches id, site or location, in any case: "site-1" is in site-1 and site-10..19.
    const text = await walk('text=SITE-1&state=offline&site=site-12', 500);
    expectEachOnce(text.ids, (i) => siteOf(i) === 'site-12' && !onlineOf(i));
    expect([...text.totals]).toEqual([text.ids.length]);

    const kitchens = await walk('text=kitchen&kind=household-co', 5_000);
    expectEachOnce(kitchens.ids, (i) => i % 2 === 0 && kindOf(i) === 'household-co');
  }, 120_000);

  it('refuses a filter it does not know, in clear words', async () => {
    const { status, body } = await getJson<{ error: string; message: string }>(
      `${server.url}/api/devices?kind=toaster`,
    );
    expect(status).toBe(400);
    expect(body.message).toMatch(/kind/);
  });
});
