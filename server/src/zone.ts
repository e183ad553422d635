/** The zone times are shown in unless the request names another: China has one, UTC+8. */
export const DEFAULT_TZ = 'Asia/Shanghai';

/** The canonical name of an IANA time zone (`asia/shanghai` → `Asia/Shanghai`), or null if none. */
export function canonicalZone(tz: string): string | null {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/** Zone offsets change at most on quarter hours: one lookup per quarter hour seen. */
const QUARTER_HOUR_MS = 900_000;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/**
 * Times of one zone as an export writes them. Offsets come from the runtime's zone data (Intl),
 * asked once per quarter hour and remembered, since an export asks for hundreds of thousands.
 */
export class ZoneClock {
  private readonly format: Intl.DateTimeFormat;
  private readonly offsets = new Map<number, number>();

  constructor(readonly tz: string) {
    this.format = new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'longOffset' });
  }

  /** The zone's offset from UTC at `ts`, ms (+8 h for Asia/Shanghai). */
  offsetMs(ts: number): number {
    const quarter = Math.floor(ts / QUARTER_HOUR_MS);
    let offset = this.offsets.get(quarter);
    if (offset === undefined) {
      // "GMT+08:00", "GMT-03:30", or "GMT" for UTC itself.
      const name = this.format.formatToParts(ts).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
      const m = /^GMT([+-])(\d{2}):(\d{2})$/.exec(name);
      offset = m === null ? 0 : (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60_000;
      if (this.offsets.size > 100_000) this.offsets.clear();
      this.offsets.set(quarter, offset);
    }
    return offset;
  }

  /**
   * The zone's wall-clock time at `ts` as a Date whose UTC fields read it: what an Excel cell
   * holds (Excel dates have no zone; exceljs writes a Date's UTC fields).
   */
  wall(ts: number): Date {
    return new Date(ts + this.offsetMs(ts));
  }

  /** ISO 8601 with the zone's offset, to the second: `2026-11-23T18:00:05+08:00`. */
  iso(ts: number): string {
    const offset = this.offsetMs(ts);
    const w = new Date(ts + offset);
    const abs = Math.abs(offset) / 60_000;
    return (
      `${pad(w.getUTCFullYear(), 4)}-${pad(w.getUTCMonth() + 1)}-${pad(w.getUTCDate())}` +
      `T${pad(w.getUTCHours())}:${pad(w.getUTCMinutes())}:${pad(w.getUTCSeconds())}` +
      `${offset < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
    );
  }

  /** The zone's calendar day at `ts`, YYYY-MM-DD: what "today" means to an office there. */
  day(ts: number): string {
    return this.wall(ts).toISOString().slice(0, 10);
  }

  /** A file name's stamp: `20261116` at local midnight, `20261116T0830` otherwise. */
  stamp(ts: number): string {
    const w = this.wall(ts);
    const day = `${pad(w.getUTCFullYear(), 4)}${pad(w.getUTCMonth() + 1)}${pad(w.getUTCDate())}`;
    const h = w.getUTCHours();
    const m = w.getUTCMinutes();
    return h === 0 && m === 0 ? day : `${day}T${pad(h)}${pad(m)}`;
  }
}
