import { useI18n } from 'vue-i18n';
import type { Device } from '../api/types';
import { durationParts, fmtNum } from '../format';
import { useAlarmText } from './useAlarmText';
import { useCatalogue } from './useCatalogue';
import { useDutyRoom } from './useDutyRoom';

/** One status word of a device, with its Element Plus tag colour. */
export interface StatusTag {
  id: string;
  text: string;
  type: 'success' | 'info' | 'warning' | 'danger' | 'primary';
  dark: boolean;
}

/** One gas of a device's last reading, as a person reads it. */
export interface Channel {
  gas: string;
  /** The gas's name in the page's language. */
  name: string;
  /** "12", "≥1000" at full scale; null when the detector could not read the channel at all. */
  value: string | null;
  unit: string;
  /** At or above the detector's full scale: the true value is unknown, at least this. */
  over: boolean;
  /** What the gateway said of the channel's quality, when not good. */
  quality: 'bad' | 'uncertain' | null;
}

/** A reading this recent is "just now" (the duty room's clock ticks every 2 s). */
const JUST_NOW_MS = 3000;

/** How each reading status other than ok looks; a status without an entry is a grey tag. */
const STATUS_TAG: Partial<Record<string, StatusTag['type']>> = {
  fault: 'danger',
  warmup: 'warning',
  calibrating: 'primary',
  bump_test: 'primary',
};

/**
 * A device's status at a glance, from its /api/devices row and the open alarms: in alarm,
 * online or offline (judged again on the duty room's clock, so a device that falls silent turns
 * offline without a message; unknown while the server is silent), the detector's own status
 * (warm-up, fault, calibrating, bump test: the catalogue's list), over range. Bump test or
 * calibration due needs detector maintenance (SPEC §11), which the API does not give yet: not
 * shown.
 */
export function useDeviceStatus() {
  const { t, te } = useI18n();
  const { catalogue, unitOf } = useCatalogue();
  const { gasName } = useAlarmText();
  const { alarms, live, now, serverNow } = useDutyRoom();

  /** The row said online and its last reading is younger than its offline limit, now. */
  function isOnline(d: Device): boolean {
    void now.value; // judged again on every tick of the duty room's clock
    if (!d.online || d.lastSeen === null) return false;
    return serverNow() - Date.parse(d.lastSeen) <= d.offlineAfterMs;
  }

  const statusWord = (id: string) => (te(`devices.status.${id}`) ? t(`devices.status.${id}`) : id);

  function tags(d: Device): StatusTag[] {
    const out: StatusTag[] = [];
    const open = alarms.sorted.value.filter((a) => a.dev === d.id);
    if (open.length > 0) {
      const critical = open.some((a) => a.severity === 'critical');
      out.push({ id: 'alarm', text: statusWord('alarm'), type: critical ? 'danger' : 'warning', dark: true });
    }
    // Nothing from the server for a while: whether it is online now nobody here can say.
    if (live.stale.value)
      out.push({ id: 'unknown', text: statusWord('unknown'), type: 'warning', dark: false });
    else
      out.push(
        isOnline(d)
          ? { id: 'online', text: statusWord('online'), type: 'success', dark: false }
          : { id: 'offline', text: statusWord('offline'), type: 'info', dark: true },
      );
    const r = d.lastReading;
    const known = catalogue.value?.readingStatuses ?? [];
    if (r !== null && r.status !== 'ok' && (known.length === 0 || known.includes(r.status)))
      out.push({
        id: r.status,
        text: statusWord(r.status),
        type: STATUS_TAG[r.status] ?? 'info',
        dark: false,
      });
    else if (r !== null && (r.faults?.length ?? 0) > 0)
      out.push({ id: 'fault', text: statusWord('fault'), type: 'danger', dark: false });
    if (r?.overRange !== undefined)
      out.push({ id: 'overRange', text: statusWord('overRange'), type: 'danger', dark: false });
    if (d.clockSuspect)
      out.push({ id: 'clockSuspect', text: statusWord('clockSuspect'), type: 'warning', dark: false });
    return out;
  }

  /**
   * Each gas of the last reading in the detector's own order (a 4-gas detector reads O2, LEL, CO,
   * H2S), then the channels it could not read at all (quality bad, no value).
   */
  function channels(d: Device): Channel[] {
    const r = d.lastReading;
    if (r === null) return [];
    const quality = (gas: string) => {
      const q = r.quality?.[gas as keyof typeof r.quality];
      return q === 'bad' || q === 'uncertain' ? q : null;
    };
    const read = Object.keys(r.values).map((gas): Channel => {
      const fs = r.overRange?.[gas as keyof typeof r.overRange];
      const v = r.values[gas as keyof typeof r.values] ?? 0;
      return {
        gas,
        name: gasName(gas),
        value: fs === undefined ? fmtNum(v) : t('devices.overRangeValue', { value: fmtNum(fs) }),
        unit: unitOf(gas),
        over: fs !== undefined,
        quality: quality(gas),
      };
    });
    const unread = Object.keys(r.quality ?? {})
      .filter((gas) => quality(gas) === 'bad' && !(gas in r.values))
      .map(
        (gas): Channel => ({
          gas,
          name: gasName(gas),
          value: null,
          unit: unitOf(gas),
          over: false,
          quality: 'bad',
        }),
      );
    return [...read, ...unread];
  }

  /** A channel in words: "一氧化碳 12 ppm", "一氧化碳 ≥1000 ppm", "氧气 0 %vol（读数存疑）", "硫化氢 无法读取". */
  function channelText(c: Channel): string {
    if (c.value === null)
      return t('devices.values', { gas: c.name, value: t('devices.unreadable'), unit: '' }).trim();
    const text = t('devices.values', { gas: c.name, value: c.value, unit: c.unit });
    // Over range says more than a bad quality would (the gateway flags a pinned value bad).
    return c.quality === null || c.over
      ? text
      : t('devices.doubtfulValue', { text, quality: t(`devices.quality.${c.quality}`) });
  }

  /** Each channel of the last reading in words, with what marks it. */
  function values(d: Device): (Channel & { text: string })[] {
    return channels(d).map((c) => ({ ...c, text: channelText(c) }));
  }

  /** "12 秒前上报" from the row's last-seen time; "刚刚上报" within the duty room's tick. */
  function lastSeen(d: Device): string {
    if (d.lastSeen === null) return t('devices.neverSeen');
    void now.value;
    const ms = serverNow() - Date.parse(d.lastSeen);
    if (ms < JUST_NOW_MS) return t('devices.justNow');
    const [unit, n] = durationParts(ms);
    return t('devices.lastSeen', { ago: t(`alarms.duration.${unit}`, { n }) });
  }

  /** The last reading's values are the detector's word for the gas only when it said "ok". */
  const doubtful = (d: Device) => d.lastReading !== null && d.lastReading.status !== 'ok';

  return { isOnline, tags, channels, values, lastSeen, statusWord, doubtful };
}
