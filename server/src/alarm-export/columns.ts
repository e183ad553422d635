import { type Alarm, alarmKind } from '../alarms/model.js';
import { COLUMN_KEYS, type ColumnKey, type ExportLabels } from './labels.js';

/** What a column holds: text, a number, a time (ms since epoch), or whole seconds. */
export type CellType = 'text' | 'number' | 'time' | 'seconds';

export interface Column {
  key: ColumnKey;
  type: CellType;
  /** Width in Excel's units (about one Latin character; a Chinese one takes two). */
  width: number;
}

const TYPES: Partial<Record<ColumnKey, CellType>> = {
  raisedAt: 'time',
  clearedAt: 'time',
  ackAt: 'time',
  onMyWayAt: 'time',
  onSiteAt: 'time',
  resolvedAt: 'time',
  value: 'number',
  threshold: 'number',
  calls: 'number',
  secondsToAck: 'seconds',
  secondsToResolve: 'seconds',
};

const WIDTHS: Partial<Record<ColumnKey, number>> = {
  id: 30,
  site: 16,
  area: 14,
  kind: 12,
  severity: 10,
  value: 9,
  threshold: 9,
  unit: 7,
  state: 14,
  ackNote: 32,
  calls: 12,
  reason: 10,
  resolutionNote: 32,
  secondsToAck: 14,
  secondsToResolve: 14,
};

/** The export's columns in order (labels.ts names them in each language). */
export const COLUMNS: readonly Column[] = COLUMN_KEYS.map((key) => {
  const type = TYPES[key] ?? 'text';
  return { key, type, width: WIDTHS[key] ?? (type === 'time' ? 20 : 12) };
});

/** A cell: text, a number (a time is ms since epoch), or empty. */
export type Cell = string | number | null;

/** What a row shows for ids: the names people know them by. */
export interface RowNames {
  /** The alarm's area as people name it (柳江村), '' when it has none. */
  area(a: Readonly<Alarm>): string;
  /** The site's name from the configuration, else its id. */
  site(id: string | null): string;
  /** A user's display name or a token's name, else the id as recorded. */
  actor(id: string): string;
}

/** Whole seconds from `from` to `to`, never negative; null when `to` is unknown. */
const seconds = (from: number, to: number | undefined): number | null =>
  to === undefined ? null : Math.max(0, Math.round((to - from) / 1000));

/**
 * One alarm's row, in COLUMNS' order. Response times count from `detectedAt`, when the server
 * raised the alarm (its clock, as the acknowledgement's and resolution's are): an alarm raised
 * late from a gateway's outbox could not be answered before the server knew of it, and a
 * gateway's clock may be off.
 */
export function alarmRow(a: Readonly<Alarm>, labels: ExportLabels, names: RowNames): Cell[] {
  const r = a.resolution;
  const cells: Record<ColumnKey, Cell> = {
    id: a.id,
    raisedAt: a.raisedAt,
    device: a.dev,
    gateway: a.gw,
    site: names.site(a.site),
    area: names.area(a),
    kind: labels.kind[alarmKind(a)],
    gas: a.gas === undefined ? null : labels.gas[a.gas],
    severity: labels.severity[a.severity],
    value: a.value,
    threshold: a.threshold,
    unit: a.unit ?? null,
    state: labels.state[a.state],
    clearedAt: a.clearedAt,
    ackBy: a.ack === null ? null : names.actor(a.ack.actor),
    ackAt: a.ack?.at ?? null,
    ackNote: a.ack?.note || null,
    onMyWayAt: a.onMyWay?.at ?? null,
    onSiteAt: a.onSite?.at ?? null,
    calls: a.calls ?? 0,
    resolvedBy: r === undefined ? null : names.actor(r.actor),
    resolvedAt: r?.at ?? null,
    reason: r === undefined ? null : labels.reason[r.reason],
    resolutionNote: r?.note || null,
    secondsToAck: seconds(a.detectedAt, a.ack?.at),
    secondsToResolve: seconds(a.detectedAt, r?.at),
  };
  return COLUMNS.map((c) => cells[c.key]);
}
