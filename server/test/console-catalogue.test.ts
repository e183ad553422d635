/**
 * The console's copy of the gas units, alarm states and gateway event types is the one in shared/
 * and the alarm model, served inside the page: a gas, state or event type added there reaches the
 * page without anyone editing it.
 */
import {
  DeviceEventSchema,
  GAS_IDS,
  GASES,
  INSPECTION_CHECKLIST,
  INSPECTION_RESULTS,
  RECTIFICATION_OUTCOMES,
  ReadingStatusSchema,
} from '@gaswatch/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIFECYCLE_STATES } from '../src/alarms/model.js';
import { apiFetch, startTestServer, type TestServer } from './helpers.js';

describe('the console catalogue', () => {
  let server: TestServer;
  let catalogue: {
    gases: Record<string, { name: string; unit: string }>;
    alarmStates: { id: string; open: boolean; needsAck: boolean }[];
    eventTypes: Record<string, { label: string }>;
    readingStatuses: string[];
  };
  beforeAll(async () => {
    server = await startTestServer();
    const html = await (await fetch(`${server.url}/`)).text();
    const json = /<script type="application\/json" id="catalogue">([^<]*)<\/script>/.exec(html)?.[1];
    catalogue = JSON.parse(json ?? 'null');
  });
  afterAll(async () => {
    await server?.close();
  });

  it('has every gas of the shared catalogue with its canonical unit', () => {
    expect(Object.keys(catalogue.gases)).toEqual([...GAS_IDS]);
    for (const id of GAS_IDS) expect(catalogue.gases[id]?.unit).toBe(GASES[id].unit);
  });

  it('has every alarm state, those needing action first, and says which are open', () => {
    expect(catalogue.alarmStates.map((s) => s.id).sort()).toEqual([...LIFECYCLE_STATES].sort());
    expect(catalogue.alarmStates.map((s) => s.id)).toEqual([
      'active',
      'cleared_unacked',
      'acknowledged',
      'cleared',
    ]);
    expect(catalogue.alarmStates.filter((s) => !s.open).map((s) => s.id)).toEqual(['cleared']);
    expect(catalogue.alarmStates.filter((s) => s.needsAck).map((s) => s.id)).toEqual([
      'active',
      'cleared_unacked',
    ]);
  });

  it('has every reading status a detector can report', () => {
    expect(catalogue.readingStatuses).toEqual(ReadingStatusSchema.options);
  });

  it('has words for every gateway event type', () => {
    expect(Object.keys(catalogue.eventTypes)).toEqual(DeviceEventSchema.shape.type.options);
    for (const t of Object.values(catalogue.eventTypes)) expect(t.label).toMatch(/\w/);
  });

  it('has the inspection checklist of shared, each item under a hazard it lists', async () => {
    const { inspections } = (await (await apiFetch(`${server.url}/api/console/catalogue`)).json()) as {
      inspections: {
        hazards: string[];
        items: { id: string; hazard: string }[];
        results: string[];
        outcomes: string[];
      };
    };
    expect(inspections.items).toEqual(INSPECTION_CHECKLIST.map(({ id, hazard }) => ({ id, hazard })));
    for (const i of inspections.items) expect(inspections.hazards).toContain(i.hazard);
    expect([inspections.results, inspections.outcomes]).toEqual([
      [...INSPECTION_RESULTS],
      [...RECTIFICATION_OUTCOMES],
    ]);
  });
});
