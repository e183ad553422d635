/**
 * The console's copy of the gas units, alarm states and gateway event types is the one in shared/
 * and the alarm model, served at /api/console/catalogue: a gas, state or event type added there
 * reaches the app without anyone editing a list in it (its words are in the app's locale files).
 */
import {
  DeviceEventSchema,
  GAS_IDS,
  GASES,
  INSPECTION_CHECKLIST,
  INSPECTION_RESULTS,
  LOCKOUT_REASONS,
  RECORDED_BUMP_TEST_METHODS,
  RECTIFICATION_OUTCOMES,
  ReadingStatusSchema,
  TEST_RESULTS,
} from '@gaswatch/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIFECYCLE_STATES } from '../src/alarms/model.js';
import type { ConsoleCatalogue } from '../src/catalogue.js';
import { apiFetch, getJson, startTestServer, type TestServer } from './helpers.js';

describe('the console catalogue', () => {
  let server: TestServer;
  let catalogue: ConsoleCatalogue;
  beforeAll(async () => {
    server = await startTestServer();
    const answer = await getJson<ConsoleCatalogue>(`${server.url}/api/console/catalogue`);
    expect(answer.status).toBe(200);
    catalogue = answer.body;
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

  it('has every gateway event type, without words (the app has those)', () => {
    expect(catalogue.eventTypes).toEqual(DeviceEventSchema.shape.type.options);
  });

  it('is for a login only', async () => {
    expect((await fetch(`${server.url}/api/console/catalogue`)).status).toBe(401);
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

  it('has the ways a bump test is recorded by hand, the results and the lockout reasons of shared', () => {
    expect(catalogue.maintenance).toEqual({
      recordedMethods: [...RECORDED_BUMP_TEST_METHODS],
      results: [...TEST_RESULTS],
      lockoutReasons: [...LOCKOUT_REASONS],
    });
    expect(catalogue.maintenance.recordedMethods).not.toContain('gateway');
  });
});
