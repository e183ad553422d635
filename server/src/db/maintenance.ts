import type {
  BumpGasResult,
  BumpTest,
  BumpTestMethod,
  Calibration,
  MaintenanceDates,
  MaintenanceFacts,
  TestResult,
} from '@gaswatch/shared';
import type { Db } from './database.js';
import type { Page } from './page.js';
import type { BumpTestsTable, CalibrationsTable, DeviceMaintenanceTable } from './schema.js';

/**
 * Detector maintenance records (migrations/0010-maintenance.ts): bump tests and calibrations,
 * append-only, and per device the dates kept for it and its latest test of each kind. Each insert
 * moves the device's "latest" in the same statement sequence, only when the new test was done at
 * or after the one it has (a test recorded late never hides a newer one); `db` should be a
 * transaction, so a test and its device row change together.
 */

const iso = (ms: number) => new Date(ms).toISOString();

/** The id of a gateway's bump test: the same event delivered twice is the same row. */
export const gatewayBumpTestId = (device: string, at: number) => `gw-${at.toString(36)}-${device}`;

/** A list's cursor: the time the last test was done and its id. */
export const RECORD_CURSOR = /^(\d{1,16})_([0-9a-z_-]{1,160})$/;

export function toBumpTest(r: BumpTestsTable): BumpTest {
  return {
    id: r.id,
    device: r.device,
    at: iso(Number(r.at)),
    result: r.result as TestResult,
    gases: JSON.parse(r.gases) as BumpGasResult[],
    method: r.method as BumpTestMethod,
    by: r.done_by,
    note: r.note,
    recordedBy: r.recorded_by,
    recordedAt: iso(Number(r.recorded_at)),
  };
}

export function toCalibration(r: CalibrationsTable): Calibration {
  return {
    id: r.id,
    device: r.device,
    at: iso(Number(r.at)),
    result: r.result as TestResult,
    nextDue: r.next_due,
    by: r.done_by,
    certificate: r.certificate,
    note: r.note,
    recordedBy: r.recorded_by,
    recordedAt: iso(Number(r.recorded_at)),
  };
}

const emptyDevice = (device: string, now: number): DeviceMaintenanceTable => ({
  device,
  sensor_eol: null,
  last_self_test: null,
  bump_id: null,
  bump_at: null,
  bump_result: null,
  cal_id: null,
  cal_at: null,
  cal_result: null,
  cal_next_due: null,
  updated_at: now,
});

/**
 * Stores a bump test; false (and nothing changed) when one with its id is stored already (a
 * gateway's event delivered again). It becomes the device's latest unless that was done later.
 */
export async function insertBumpTest(db: Db, row: BumpTestsTable): Promise<boolean> {
  const inserted = await db
    .insertInto('bump_tests')
    .values(row)
    .onConflict((oc) => oc.column('id').doNothing())
    .returning('id')
    .executeTakeFirst();
  if (inserted === undefined) return false;
  await db
    .insertInto('device_maintenance')
    .values({
      ...emptyDevice(row.device, row.recorded_at),
      bump_id: row.id,
      bump_at: row.at,
      bump_result: row.result,
    })
    .onConflict((oc) =>
      oc
        .column('device')
        .doUpdateSet((eb) => ({
          bump_id: eb.ref('excluded.bump_id'),
          bump_at: eb.ref('excluded.bump_at'),
          bump_result: eb.ref('excluded.bump_result'),
          updated_at: eb.ref('excluded.updated_at'),
        }))
        .where((eb) =>
          eb.or([
            eb('device_maintenance.bump_at', 'is', null),
            eb('device_maintenance.bump_at', '<=', eb.ref('excluded.bump_at')),
          ]),
        ),
    )
    .execute();
  return true;
}

/** Stores a calibration; it becomes the device's latest unless that was done later. */
export async function insertCalibration(db: Db, row: CalibrationsTable): Promise<void> {
  await db.insertInto('calibrations').values(row).execute();
  await db
    .insertInto('device_maintenance')
    .values({
      ...emptyDevice(row.device, row.recorded_at),
      cal_id: row.id,
      cal_at: row.at,
      cal_result: row.result,
      cal_next_due: row.next_due,
    })
    .onConflict((oc) =>
      oc
        .column('device')
        .doUpdateSet((eb) => ({
          cal_id: eb.ref('excluded.cal_id'),
          cal_at: eb.ref('excluded.cal_at'),
          cal_result: eb.ref('excluded.cal_result'),
          cal_next_due: eb.ref('excluded.cal_next_due'),
          updated_at: eb.ref('excluded.updated_at'),
        }))
        .where((eb) =>
          eb.or([
            eb('device_maintenance.cal_at', 'is', null),
            eb('device_maintenance.cal_at', '<=', eb.ref('excluded.cal_at')),
          ]),
        ),
    )
    .execute();
}

/** Sets the dates kept for a device; the row as it was before (undefined: the device had none). */
export async function putMaintenanceDates(
  db: Db,
  device: string,
  dates: MaintenanceDates,
  now: number,
): Promise<DeviceMaintenanceTable | undefined> {
  const before = await getDeviceMaintenance(db, device);
  await db
    .insertInto('device_maintenance')
    .values({
      ...emptyDevice(device, now),
      sensor_eol: dates.sensorEndOfLife,
      last_self_test: dates.lastSelfTest,
    })
    .onConflict((oc) =>
      oc.column('device').doUpdateSet({
        sensor_eol: dates.sensorEndOfLife,
        last_self_test: dates.lastSelfTest,
        updated_at: now,
      }),
    )
    .execute();
  return before;
}

export async function getDeviceMaintenance(
  db: Db,
  device: string,
): Promise<DeviceMaintenanceTable | undefined> {
  const r = await db
    .selectFrom('device_maintenance')
    .selectAll()
    .where('device', '=', device)
    .executeTakeFirst();
  return r === undefined ? undefined : numbers(r);
}

/** node-pg and better-sqlite3 both give bigint columns as numbers here (db/database.ts); null stays null. */
function numbers(r: DeviceMaintenanceTable): DeviceMaintenanceTable {
  return {
    ...r,
    bump_at: r.bump_at === null ? null : Number(r.bump_at),
    cal_at: r.cal_at === null ? null : Number(r.cal_at),
    updated_at: Number(r.updated_at),
  };
}

/** The household alarm a device is (its household and expiry in the household registry), if it is one. */
export async function householdAlarmOf(
  db: Db,
  device: string,
): Promise<{ household: string; expiresOn: string | null } | undefined> {
  const r = await db
    .selectFrom('household_detectors')
    .select(['household_id', 'expires_on'])
    .where('device', '=', device)
    .executeTakeFirst();
  return r === undefined ? undefined : { household: r.household_id, expiresOn: r.expires_on };
}

/** The household alarms' expiries of these devices (those in the registry with one). */
export async function householdAlarmsOf(db: Db, devices: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < devices.length; i += 500) {
    const rows = await db
      .selectFrom('household_detectors')
      .select(['device', 'expires_on'])
      .where('device', 'in', devices.slice(i, i + 500))
      .where('expires_on', 'is not', null)
      .execute();
    for (const r of rows) if (r.expires_on !== null) out.set(r.device, r.expires_on);
  }
  return out;
}

/** What fitness is judged from: the device's row and its household alarm's expiry. */
export function factsOf(
  row: DeviceMaintenanceTable | undefined,
  alarmExpiresOn: string | null,
): MaintenanceFacts {
  return {
    lastBumpTest:
      row?.bump_at == null || row.bump_result === null
        ? null
        : { at: row.bump_at, result: row.bump_result as TestResult },
    lastCalibration:
      row?.cal_at == null || row.cal_result === null
        ? null
        : { at: row.cal_at, result: row.cal_result as TestResult, nextDue: row.cal_next_due },
    sensorEndOfLife: row?.sensor_eol ?? null,
    alarmExpiresOn,
  };
}

async function pageOf<T extends 'bump_tests' | 'calibrations'>(
  db: Db,
  table: T,
  q: { device: string; limit: number; cursor?: string | undefined },
) {
  const base = db.selectFrom(table as 'bump_tests').where('device', '=', q.device);
  const { total } = await base
    .select((eb) => eb.fn.countAll<number | string>().as('total'))
    .executeTakeFirstOrThrow();
  let page = base
    .selectAll()
    .orderBy('at', 'desc')
    .orderBy('id', 'desc')
    .limit(q.limit + 1);
  const at = q.cursor === undefined ? null : RECORD_CURSOR.exec(q.cursor);
  if (at !== null) {
    const [, ms = '0', id = ''] = at;
    page = page.where((eb) =>
      eb.or([eb('at', '<', Number(ms)), eb.and([eb('at', '=', Number(ms)), eb('id', '<', id)])]),
    );
  }
  const rows = await page.execute();
  const shown = rows.slice(0, q.limit);
  const last = shown.at(-1);
  return {
    rows: shown as unknown as Array<T extends 'bump_tests' ? BumpTestsTable : CalibrationsTable>,
    total: Number(total),
    nextCursor: rows.length > q.limit && last !== undefined ? `${Number(last.at)}_${last.id}` : null,
  };
}

/** A device's bump tests, the last done first; the total and the next page's cursor. */
export function listBumpTests(
  db: Db,
  q: { device: string; limit: number; cursor?: string | undefined },
): Promise<Page<BumpTestsTable>> {
  return pageOf(db, 'bump_tests', q);
}

/** A device's calibrations, the last done first. */
export function listCalibrations(
  db: Db,
  q: { device: string; limit: number; cursor?: string | undefined },
): Promise<Page<CalibrationsTable>> {
  return pageOf(db, 'calibrations', q);
}

export async function getBumpTest(db: Db, id: string): Promise<BumpTestsTable | undefined> {
  return db.selectFrom('bump_tests').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Devices with something due by `horizon` (YYYY-MM-DD, inclusive): a calibration or a sensor's
 * end of life on or before it, or a last bump test or calibration that failed. Bounded by the
 * devices anyone maintains (one row each); the caller filters by area and pages.
 */
export async function maintenanceDueBy(db: Db, horizon: string): Promise<DeviceMaintenanceTable[]> {
  const rows = await db
    .selectFrom('device_maintenance')
    .selectAll()
    .where((eb) =>
      eb.or([
        eb('cal_next_due', '<=', horizon),
        eb('sensor_eol', '<=', horizon),
        eb('bump_result', '=', 'fail'),
        eb('cal_result', '=', 'fail'),
      ]),
    )
    .orderBy('device')
    .execute();
  return rows.map(numbers);
}
