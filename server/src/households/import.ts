import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  DaySchema,
  type Household,
  HouseholdContactSchema,
  type HouseholdDetector,
  HouseholdDetectorSchema,
  type HouseholdInput,
  HouseholdInputSchema,
  ID_PATTERN,
  OCCUPANT_FLAGS,
  type OccupantFlag,
} from '@gaswatch/shared';
import type { Db } from '../db/database.js';
import {
  detectorHouseholds,
  householdsByIds,
  insertDetectors,
  insertHouseholds,
  putDetector,
  updateHousehold,
} from '../db/households.js';
import { HttpError } from '../errors.js';
import {
  IMPORT_MAX_ROWS,
  type ImportIssue,
  type ImportIssueCode,
  MAX_ERRORS_LISTED,
} from './import-schema.js';
import {
  type ColumnKey,
  type ContactField,
  DWELLING_WORDS,
  fold,
  HEADER_INDEX,
  HEATING_WORDS,
  LIST_SEPARATORS,
  RELATION_WORDS,
  type SheetColumn,
  wordIndex,
  wordsOf,
  YES_NO,
} from './sheet.js';
import { CellError, type RawCell, readSheetFile, type SheetRow } from './sheet-file.js';

export type { ImportIssue };

/**
 * Importing the household sheet (issue 13): every row checked (its cells, against the other rows,
 * against the registry and the caller's area) before anything is written, then all of it in one
 * transaction or nothing. A column the file does not have leaves that field of an existing
 * household as it is; an empty cell in a column it has clears it. An import never removes a
 * household or a detector.
 */

export { IMPORT_MAX_ROWS, MAX_ERRORS_LISTED };

/** How far down a sheet its header row may be (offices put a title above it). */
const HEADER_SEARCH_ROWS = 10;

/** Where the caller may put households: an area's id, or a name unique among them. */
export interface AreaScope {
  /** The area a cell names (by id, else by name), or why none. */
  resolve(
    text: string,
  ): { id: string } | { code: 'unknown_area' | 'ambiguous_area'; message: string; areas?: string[] };
  /** Whether an existing household's area is within the caller's. */
  has(id: string): boolean;
}

/** An area scope over the area tree: the subtree of `scope` (null: every area). */
export function areaScope(
  tree: { subtree(scope: string | null): string[]; nameOf(id: string): string | undefined },
  scope: string | null,
): AreaScope {
  const ids = new Set(tree.subtree(scope));
  const byName = new Map<string, string[]>();
  for (const id of ids) {
    const name = fold(tree.nameOf(id) ?? id);
    byName.set(name, [...(byName.get(name) ?? []), id]);
  }
  return {
    has: (id) => ids.has(id),
    resolve(text) {
      const lower = text.toLowerCase();
      if (ids.has(lower)) return { id: lower };
      const named = byName.get(fold(text)) ?? [];
      if (named.length === 1) return { id: named[0] as string };
      if (named.length > 1)
        return {
          code: 'ambiguous_area',
          message: `${named.length} areas in your area are named ${text} (${named.join(', ')}): write the id`,
          areas: named,
        };
      return {
        code: 'unknown_area',
        message: `no village or community ${text} in your area (GET /api/areas lists them, with their ids)`,
      };
    },
  };
}

/** What a household's existing detector becomes, or a new one. */
interface DetectorChange {
  household: string;
  detector: HouseholdDetector;
  /** It is in this household already (updated), else new (inserted). */
  exists: boolean;
}

export interface ImportPlan {
  format: 'xlsx' | 'csv';
  /** Rows of households in the file (the header and empty rows not counted). */
  rows: number;
  /** Headers the import does not know: their columns are not read. */
  ignoredColumns: string[];
  issues: ImportIssue[];
  create: HouseholdInput[];
  update: Array<{ before: Household; after: HouseholdInput }>;
  unchanged: number;
  detectors: DetectorChange[];
  /** What the plan assumed of the registry: each household id's updatedAt (null: none), each device's home. */
  assumed: { households: Map<string, string | null>; devices: Map<string, string | null> };
}

/** A row's cells, read into the household's fields; only the columns the file has. */
interface ParsedRow {
  row: number;
  id: string | undefined;
  fields: Partial<Omit<HouseholdInput, 'occupants' | 'contacts'>> & { count?: number };
  flags: Partial<Record<OccupantFlag, boolean>>;
  /** The contacts, when the file has contact columns. */
  contacts: HouseholdInput['contacts'] | undefined;
  /** The detectors named, each with the fields the file has. */
  detectors: Array<{
    device: string;
    location?: string;
    installedOn?: string | null;
    expiresOn?: string | null;
  }>;
  bad: boolean;
}

const DWELLING_INDEX = wordIndex(DWELLING_WORDS);
const HEATING_INDEX = wordIndex(HEATING_WORDS);
const RELATION_INDEX = wordIndex(RELATION_WORDS);
const YES_NO_INDEX = wordIndex(YES_NO);

/** A device id list: also split on spaces (ids have none). */
const DEVICE_SEPARATORS = /[、,，;；/\s]+/;
/** The mark the export's CSV puts before text a spreadsheet would run as a formula (alarm-export/csv.ts). */
const FORMULA_MARK = /^'(?=[=+\-@\t\r])/;

const pad = (n: number) => String(n).padStart(2, '0');
/** An XLSX date cell's day (exceljs gives the wall clock in UTC fields). */
const dayOfDate = (d: Date) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;

/** A cell as text, as a person would read it. */
function textOf(c: RawCell): string {
  if (c === null) return '';
  if (c instanceof CellError) return c.text;
  if (c instanceof Date) return dayOfDate(c);
  if (typeof c === 'string') return c.replace(FORMULA_MARK, '').trim();
  return String(c);
}

/** Excel's day number 1 is 1900-01-01 (counting its phantom 1900-02-29): day 25569 is 1970-01-01. */
const EXCEL_EPOCH_DAY = 25569;

/**
 * A day as offices write it: 2026-11-20, 2026/11/20, 2026.11.20, 2026年11月20日, 20261120, a date
 * cell, or a date cell Excel shows as a number (its day number); else null.
 */
function dayOf(c: RawCell): string | null {
  if (c instanceof Date) return dayOfDate(c);
  if (typeof c === 'number') {
    if (Number.isInteger(c) && c >= 19000101 && c <= 29991231) return dayOf(String(c));
    if (Number.isInteger(c) && c > 0 && c < 2958466)
      return dayOfDate(new Date((c - EXCEL_EPOCH_DAY) * 86_400_000));
    return null;
  }
  const t = textOf(c).normalize('NFKC');
  const m =
    /^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$/.exec(t) ??
    /^(\d{4})(\d{2})(\d{2})$/.exec(t);
  return m === null ? null : `${m[1]}-${pad(Number(m[2]))}-${pad(Number(m[3]))}`;
}

/** A number cell, or text that is one (24.331, 3人 for a count); NaN otherwise. */
function numberOf(c: RawCell, unit = ''): number {
  if (typeof c === 'number') return c;
  const t = textOf(c).normalize('NFKC');
  const m = new RegExp(`^(-?\\d+(?:\\.\\d+)?)\\s*${unit}$`).exec(t);
  return m === null ? Number.NaN : Number(m[1]);
}

/** The file's header row: which column holds what, what is not read, and what is wrong with it. */
interface Header {
  row: number;
  columns: Array<{ index: number; column: SheetColumn; header: string }>;
  ignored: string[];
  issues: ImportIssue[];
}

function readHeader(r: SheetRow): Header {
  const columns: Header['columns'] = [];
  const ignored: string[] = [];
  const issues: ImportIssue[] = [];
  const seen = new Map<ColumnKey, string>();
  for (const [index, cell] of r.cells.entries()) {
    const header = textOf(cell);
    if (header === '') continue;
    const column = HEADER_INDEX.get(fold(header));
    if (column === undefined) {
      ignored.push(header);
      continue;
    }
    const first = seen.get(column.key);
    if (first !== undefined) {
      issues.push({
        row: r.row,
        column: header,
        field: column.key,
        value: header,
        code: 'duplicate_column',
        message: `the same column as ${first}: keep one`,
      });
      continue;
    }
    seen.set(column.key, header);
    columns.push({ index, column, header });
  }
  for (const [key, zh, en] of [
    ['id', '户编号', 'Household id'],
    ['area', '所属村（社区）', 'Village or community'],
    ['address', '地址', 'Address'],
  ] as const)
    if (!seen.has(key))
      issues.push({
        row: r.row,
        column: zh,
        field: key,
        value: '',
        code: 'missing_column',
        message: `the sheet has no column ${zh} (${en}): every import needs it`,
      });
  return { row: r.row, columns, ignored, issues };
}

/** The first sheet with a header row (a row naming 户编号) near its top, and the rows below it. */
function findHeader(sheets: ReadonlyArray<{ rows: SheetRow[] }>): { header: Header; rows: SheetRow[] } {
  for (const s of sheets)
    for (const [i, r] of s.rows.slice(0, HEADER_SEARCH_ROWS).entries())
      if (r.cells.some((c) => HEADER_INDEX.get(fold(textOf(c)))?.key === 'id'))
        return { header: readHeader(r), rows: s.rows.slice(i + 1) };
  throw new HttpError(
    400,
    'no_header_row',
    `no header row naming 户编号 (Household id) in the first ${HEADER_SEARCH_ROWS} rows of any sheet: the template (GET /api/households/template) shows the columns`,
  );
}

/** Reads one row's cells; what is wrong goes to `issues`. */
function parseRow(r: SheetRow, header: Header, areas: AreaScope, issues: ImportIssue[]): ParsedRow {
  const out: ParsedRow = {
    row: r.row,
    id: undefined,
    fields: {},
    flags: {},
    contacts: undefined,
    detectors: [],
    bad: false,
  };
  const cells = new Map<ColumnKey, { raw: RawCell; text: string; header: string }>();
  for (const { index, column, header: h } of header.columns) {
    const raw = r.cells[index] ?? null;
    cells.set(column.key, { raw, text: textOf(raw), header: h });
  }
  const fail: Fail = (key, code, message, about) => {
    const c = cells.get(key);
    out.bad = true;
    issues.push({
      row: r.row,
      column: c?.header ?? key,
      field: key,
      value: (c?.text ?? '').slice(0, 200),
      code,
      message,
      ...(about === undefined ? {} : { about }),
    });
  };
  for (const [key, c] of cells)
    if (c.raw instanceof CellError) fail(key, 'cell_error', `the cell holds the Excel error ${c.raw.text}`);
  const text = (key: ColumnKey) => {
    const c = cells.get(key);
    return c === undefined || c.raw instanceof CellError ? undefined : c.text;
  };
  const zodMessage = (r: { error?: { issues: Array<{ message: string }> } }) =>
    r.error?.issues[0]?.message ?? 'invalid';

  const id = text('id');
  if (id === '') fail('id', 'required', 'every row needs its 户编号 (household id)');
  else if (id !== undefined) {
    if (ID_PATTERN.test(id.toLowerCase())) out.id = id.toLowerCase();
    else
      fail(
        'id',
        'bad_id',
        'must be letters, digits, _ and - (at most 64, no spaces or Chinese), e.g. liujiang-3-12',
      );
  }
  const area = text('area');
  if (area === '') fail('area', 'required', 'every row needs its village or community');
  else if (area !== undefined) {
    const found = areas.resolve(area);
    if ('id' in found) out.fields.area = found.id;
    else
      fail('area', found.code, found.message, found.areas === undefined ? undefined : { areas: found.areas });
  }
  const address = text('address');
  if (address === '') fail('address', 'required', 'every row needs its address');
  else if (address !== undefined) {
    const p = HouseholdInputSchema.shape.address.safeParse(address);
    if (p.success) out.fields.address = p.data;
    else fail('address', 'bad_address', zodMessage(p));
  }
  for (const key of ['lat', 'lon'] as const) {
    const t = text(key);
    if (t === undefined) continue;
    if (t === '') out.fields[key] = null;
    else {
      const p = HouseholdInputSchema.shape[key].safeParse(numberOf(cells.get(key)?.raw ?? null));
      if (p.success) out.fields[key] = p.data;
      else
        fail(
          key,
          'bad_number',
          key === 'lat' ? 'must be a latitude, -90 to 90' : 'must be a longitude, -180 to 180',
        );
    }
  }
  const dwelling = text('dwelling');
  if (dwelling === '') out.fields.dwelling = null;
  else if (dwelling !== undefined) {
    const d = DWELLING_INDEX.get(fold(dwelling));
    if (d !== undefined) out.fields.dwelling = d;
    else fail('dwelling', 'unknown_word', `not a dwelling; write one of ${wordsOf(DWELLING_WORDS)}`);
  }
  const count = text('count');
  if (count === '') out.fields.count = 0;
  else if (count !== undefined) {
    const n = numberOf(cells.get('count')?.raw ?? null, '人?');
    if (Number.isInteger(n) && n >= 0 && n <= 99) out.fields.count = n;
    else fail('count', 'bad_number', 'must be a whole number of people, 0 to 99');
  }
  for (const f of OCCUPANT_FLAGS) {
    const t = text(`flag.${f}`);
    if (t === undefined) continue;
    const raw = cells.get(`flag.${f}`)?.raw;
    const answer =
      typeof raw === 'boolean' ? (raw ? 'yes' : 'no') : t === '' ? 'no' : YES_NO_INDEX.get(fold(t));
    if (answer === undefined) fail(`flag.${f}`, 'unknown_word', 'must be 是 or 否 (yes or no; blank is 否)');
    else out.flags[f] = answer === 'yes';
  }
  const heating = text('heating');
  if (heating !== undefined) {
    const words = heating
      .split(LIST_SEPARATORS)
      .map((w) => w.trim())
      .filter((w) => w !== '');
    const unknown = words.filter((w) => !HEATING_INDEX.has(fold(w)));
    if (unknown.length > 0)
      fail(
        'heating',
        'unknown_word',
        `${unknown.join('、')}: not a kind of heating; write those of ${wordsOf(HEATING_WORDS)}, separated by 、`,
      );
    else
      out.fields.heating = [
        ...new Set(words.map((w) => HEATING_INDEX.get(fold(w)) as HouseholdInput['heating'][number])),
      ];
  }
  parseContacts(header, text, fail, out);
  parseDetectors(cells, text, fail, out);
  const notes = text('notes');
  if (notes !== undefined) {
    const p = HouseholdInputSchema.shape.notes.safeParse(notes);
    if (p.success) out.fields.notes = p.data;
    else fail('notes', 'too_long', zodMessage(p));
  }
  return out;
}

type Text = (key: ColumnKey) => string | undefined;
type Fail = (key: ColumnKey, code: ImportIssueCode, message: string, about?: ImportIssue['about']) => void;

/** Contacts in call order, from the groups 联系人1 … the file has; an empty group is skipped. */
function parseContacts(header: Header, text: Text, fail: Fail, out: ParsedRow): void {
  const groups = [
    ...new Set(
      header.columns
        .filter((c) => c.column.key.startsWith('contact.'))
        .map((c) => Number(c.column.key.split('.')[1])),
    ),
  ].sort((a, b) => a - b);
  if (groups.length === 0) return;
  const contacts: HouseholdInput['contacts'] = [];
  for (const n of groups) {
    const key = (f: ContactField) => `contact.${n}.${f}` as ColumnKey;
    const name = text(key('name')) ?? '';
    const relation = text(key('relation')) ?? '';
    const phone = text(key('phone')) ?? '';
    if (name === '' && relation === '' && phone === '') continue;
    let ok = true;
    const bad = (f: ContactField, code: ImportIssueCode, message: string) => {
      fail(key(f), code, message);
      ok = false;
    };
    const shape = HouseholdContactSchema.shape;
    const pName = shape.name.safeParse(name);
    if (name === '') bad('name', 'required', `contact ${n} has a phone or relation but no name`);
    else if (!pName.success) bad('name', 'bad_name', pName.error.issues[0]?.message ?? 'invalid');
    const rel = RELATION_INDEX.get(fold(relation));
    if (relation === '')
      bad('relation', 'required', `contact ${n} needs a relation: ${wordsOf(RELATION_WORDS)}`);
    else if (rel === undefined)
      bad('relation', 'unknown_word', `not a relation; write one of ${wordsOf(RELATION_WORDS)}`);
    const pPhone = shape.phone.safeParse(phone);
    if (phone === '') bad('phone', 'required', `contact ${n} needs a phone number`);
    else if (!pPhone.success)
      bad('phone', 'bad_phone', 'must be a phone number: digits, spaces and dashes, optionally a leading +');
    if (ok && pName.success && rel !== undefined && pPhone.success)
      contacts.push({ name: pName.data, relation: rel, phone: pPhone.data });
  }
  out.contacts = contacts;
}

/** The detectors named (several separated by 、), their location and dates in the same order or one for all. */
function parseDetectors(
  cells: Map<ColumnKey, { raw: RawCell; text: string }>,
  text: Text,
  fail: Fail,
  out: ParsedRow,
): void {
  const devices = (text('device') ?? '')
    .split(DEVICE_SEPARATORS)
    .filter((d) => d !== '')
    .map((d) => d.toLowerCase());
  for (const d of devices)
    if (!ID_PATTERN.test(d)) {
      fail(
        'device',
        'bad_id',
        `${d}: a device id is letters, digits, _ and - (at most 64), as its gateway reports it`,
      );
      return;
    }
  if (new Set(devices).size < devices.length) fail('device', 'duplicate_device', 'the same detector twice');
  /** The values of a detector column, one per device (one value for all, or none given). */
  const values = (key: 'location' | 'installedOn' | 'expiresOn'): Array<string | null> | undefined => {
    const t = text(key);
    if (t === undefined) return undefined;
    const raw = cells.get(key)?.raw ?? null;
    const parts =
      key === 'location'
        ? t
            .split(LIST_SEPARATORS)
            .map((x) => x.trim())
            .filter((x) => x !== '')
        : raw instanceof Date || typeof raw === 'number'
          ? [raw]
          : t
              .split(LIST_SEPARATORS)
              .map((x) => x.trim())
              .filter((x) => x !== '');
    if (parts.length > 0 && devices.length === 0) {
      fail(key, 'no_detector', 'no 探测器编号 (detector id) in this row for it');
      return undefined;
    }
    if (parts.length > 1 && parts.length !== devices.length) {
      fail(
        key,
        'detector_count',
        `${parts.length} values for ${devices.length} detectors: one for each, in the same order, or one for all`,
      );
      return undefined;
    }
    const read = parts.map((p) => {
      if (key === 'location') {
        const s = String(p);
        const ok = HouseholdDetectorSchema.shape.location.safeParse(s);
        if (!ok.success) fail(key, 'too_long', 'a location is at most 64 characters');
        return s;
      }
      const day = dayOf(p as RawCell);
      if (day === null || !DaySchema.safeParse(day).success) {
        fail(key, 'bad_date', `${textOf(p as RawCell)}: not a date; write it as 2026-11-20`);
        return null;
      }
      return day;
    });
    return devices.map((_, i) =>
      read.length === 0 ? null : ((read.length === 1 ? read[0] : read[i]) ?? null),
    );
  };
  const location = values('location');
  const installedOn = values('installedOn');
  const expiresOn = values('expiresOn');
  out.detectors = devices.map((device, i) => ({
    device,
    ...(location === undefined ? {} : { location: location[i] ?? '' }),
    ...(installedOn === undefined ? {} : { installedOn: installedOn[i] ?? null }),
    ...(expiresOn === undefined ? {} : { expiresOn: expiresOn[i] ?? null }),
  }));
}

/** A household's fields as compared: flags and heating as sets (their order means nothing). */
function comparable(h: HouseholdInput): string {
  return JSON.stringify({
    ...h,
    occupants: { count: h.occupants.count, flags: [...h.occupants.flags].sort() },
    heating: [...h.heating].sort(),
  });
}

const inputOf = (h: Household): HouseholdInput => ({
  id: h.id,
  area: h.area,
  address: h.address,
  lat: h.lat,
  lon: h.lon,
  dwelling: h.dwelling,
  occupants: h.occupants,
  heating: h.heating,
  contacts: h.contacts,
  notes: h.notes,
});

const sameDetector = (a: HouseholdDetector, b: HouseholdDetector) =>
  a.location === b.location && a.installedOn === b.installedOn && a.expiresOn === b.expiresOn;

/**
 * Reads `body` (XLSX or CSV) and checks every row; the plan says what an apply would write, or
 * lists every bad cell. Reads the registry through `db`, writes nothing.
 */
export async function planImport(db: Db, body: Buffer, areas: AreaScope): Promise<ImportPlan> {
  const file = await readSheetFile(body);
  const { header, rows: below } = findHeader(file.sheets);
  const rows = below.filter((r) => r.cells.some((c) => c !== null && textOf(c) !== ''));
  if (rows.length > IMPORT_MAX_ROWS)
    throw new HttpError(
      413,
      'too_many_rows',
      `the sheet has ${rows.length} households; one import takes at most ${IMPORT_MAX_ROWS}: split it (by township or village)`,
    );
  const issues = [...header.issues];
  const plan: ImportPlan = {
    format: file.format,
    rows: rows.length,
    ignoredColumns: header.ignored,
    issues,
    create: [],
    update: [],
    unchanged: 0,
    detectors: [],
    assumed: { households: new Map(), devices: new Map() },
  };
  if (header.issues.length > 0) return plan;

  const pause = breather();
  const parsed: ParsedRow[] = [];
  for (const r of rows) {
    parsed.push(parseRow(r, header, areas, issues));
    await pause();
  }
  const idColumn = header.columns.find((c) => c.column.key === 'id')?.header ?? '户编号';
  const deviceColumn = header.columns.find((c) => c.column.key === 'device')?.header ?? '探测器编号';
  const rowOfId = new Map<string, number>();
  const rowOfDevice = new Map<string, number>();
  const issue = (
    p: ParsedRow,
    field: 'id' | 'device',
    value: string,
    code: ImportIssueCode,
    message: string,
    about?: ImportIssue['about'],
  ) => {
    p.bad = true;
    const column = field === 'id' ? idColumn : deviceColumn;
    issues.push({
      row: p.row,
      column,
      field,
      value,
      code,
      message,
      ...(about === undefined ? {} : { about }),
    });
  };
  for (const p of parsed) {
    if (p.id !== undefined) {
      const first = rowOfId.get(p.id);
      if (first === undefined) rowOfId.set(p.id, p.row);
      else
        issue(p, 'id', p.id, 'duplicate_id', `household ${p.id} is on row ${first} already`, { row: first });
    }
    for (const d of new Set(p.detectors.map((x) => x.device))) {
      const first = rowOfDevice.get(d);
      if (first === undefined) rowOfDevice.set(d, p.row);
      else
        issue(p, 'device', d, 'duplicate_device', `detector ${d} is on row ${first} already`, { row: first });
    }
  }

  const existing = await householdsByIds(db, [...rowOfId.keys()]);
  const homes = await detectorHouseholds(db, [...rowOfDevice.keys()]);
  for (const id of rowOfId.keys()) plan.assumed.households.set(id, existing.get(id)?.updatedAt ?? null);
  for (const d of rowOfDevice.keys()) plan.assumed.devices.set(d, homes.get(d) ?? null);

  for (const p of parsed) {
    await pause();
    if (p.id === undefined) continue;
    const before = existing.get(p.id);
    if (before !== undefined && !areas.has(before.area)) {
      issue(
        p,
        'id',
        p.id,
        'household_outside',
        `household ${p.id} is registered in an area outside yours: choose another number`,
      );
      continue;
    }
    for (const d of p.detectors) {
      const home = homes.get(d.device);
      if (home === undefined || home === p.id) continue;
      const seen = areas.has(
        existing.get(home)?.area ?? (await householdsByIds(db, [home])).get(home)?.area ?? '',
      );
      issue(
        p,
        'device',
        d.device,
        'detector_elsewhere',
        seen
          ? `detector ${d.device} is installed in household ${home}: remove it there first`
          : `detector ${d.device} is installed in a household outside your area`,
        seen ? { household: home } : undefined,
      );
    }
    if (p.bad) continue;
    const base: HouseholdInput =
      before === undefined
        ? HouseholdInputSchema.parse({ id: p.id, area: p.fields.area, address: p.fields.address ?? '' })
        : inputOf(before);
    const { count, ...fields } = p.fields;
    const flags = OCCUPANT_FLAGS.filter((f) => p.flags[f] ?? base.occupants.flags.includes(f));
    const after: HouseholdInput = {
      ...base,
      ...fields,
      occupants: { count: count ?? base.occupants.count, flags },
      contacts: p.contacts ?? base.contacts,
    };
    const checked = HouseholdInputSchema.safeParse(after);
    if (!checked.success) {
      for (const i of checked.error.issues)
        issue(p, 'id', p.id, 'invalid', `${i.path.join('.')}: ${i.message}`);
      continue;
    }
    const changes: DetectorChange[] = [];
    for (const d of p.detectors) {
      const old = before?.detectors.find((x) => x.device === d.device);
      const detector: HouseholdDetector = {
        device: d.device,
        location: d.location ?? old?.location ?? '',
        ...optionalDay('installedOn', d.installedOn, old?.installedOn),
        ...optionalDay('expiresOn', d.expiresOn, old?.expiresOn),
      };
      if (old === undefined || !sameDetector(old, detector))
        changes.push({ household: p.id, detector, exists: old !== undefined });
    }
    plan.detectors.push(...changes);
    if (before === undefined) plan.create.push(after);
    else if (comparable(after) !== comparable(inputOf(before))) plan.update.push({ before, after });
    else if (changes.length === 0) plan.unchanged++;
    else plan.update.push({ before, after });
  }
  issues.sort((a, b) => a.row - b.row);
  return plan;
}

/**
 * Longest run of row checking before the event loop gets a turn, ms: a file at the row cap is a
 * second or two of checks, and readings and alarms must not wait behind it (SPEC §8).
 */
const SLICE_MS = 10;

/** A pause to await in a long loop: yields to the event loop once SLICE_MS has passed since the last. */
function breather(): () => Promise<void> {
  let slice = performance.now();
  return async () => {
    if (performance.now() - slice < SLICE_MS) return;
    await nextTurn();
    slice = performance.now();
  };
}

/** A day field as given (null: cleared), else as it was. */
function optionalDay<K extends 'installedOn' | 'expiresOn'>(
  key: K,
  given: string | null | undefined,
  old: string | undefined,
): Partial<Record<K, string>> {
  const day = given === undefined ? old : (given ?? undefined);
  return day === undefined ? {} : ({ [key]: day } as Record<K, string>);
}

/**
 * Writes a plan without issues, in the transaction `tx`: first checks that the registry is still
 * as the plan read it (another change in between is 409 import_conflict: check again).
 */
export async function applyImport(tx: Db, plan: ImportPlan, now: number): Promise<void> {
  const ids = [...plan.assumed.households.keys()];
  const devices = [...plan.assumed.devices.keys()];
  const households = await householdsByIds(tx, ids);
  const homes = await detectorHouseholds(tx, devices);
  const moved =
    ids.some((id) => (households.get(id)?.updatedAt ?? null) !== plan.assumed.households.get(id)) ||
    devices.some((d) => (homes.get(d) ?? null) !== plan.assumed.devices.get(d));
  if (moved)
    throw new HttpError(
      409,
      'import_conflict',
      'the registry changed while the file was being checked: run the import again',
    );
  await insertHouseholds(tx, plan.create, now);
  for (const u of plan.update) await updateHousehold(tx, u.after, now);
  await insertDetectors(
    tx,
    plan.detectors.filter((d) => !d.exists),
    now,
  );
  for (const d of plan.detectors.filter((x) => x.exists)) await putDetector(tx, d.household, d.detector, now);
}
