import { type Ref, ref, watch } from 'vue';
import { api } from '../api/client';
import type { Device } from '../api/types';
import { useAreas } from './useAreas';
import { useDutyRoom } from './useDutyRoom';

/** Devices asked for at a time. */
export const DEVICE_PAGE = 50;

/** What the list is narrowed to; the server filters (GET /api/devices), never the page. */
export interface DeviceFilters {
  /** An area and those within it; null: every area this login sees. */
  area: string | null;
  state: 'online' | 'offline' | null;
  kind: 'household-co' | 'multigas' | 'combustible' | null;
  site: string | null;
  /** Part of the id, site or location, any case. */
  text: string | null;
}

/** The filters as /api/devices takes them (absent when not set). */
const query = (f: DeviceFilters) => ({
  area: f.area ?? undefined,
  state: f.state ?? undefined,
  kind: f.kind ?? undefined,
  site: f.site ?? undefined,
  text: f.text ?? undefined,
});

/**
 * The device list of this login, narrowed by `filters`, paged by the server with a cursor.
 * Loaded at start, on a change of filters and after a reconnect; then each pushed reading or
 * device state replaces its device's row (or drops it, when it no longer matches), and a device
 * that comes to match joins the list where it sorts (when it falls on the pages loaded) without
 * asking again.
 */
export function useDeviceList(filters: Ref<DeviceFilters>) {
  const { onLive, live, endedOn401 } = useDutyRoom();
  const { areas } = useAreas();
  const rows = ref<Device[]>([]);
  const total = ref(0);
  const nextCursor = ref<string | null>(null);
  const loaded = ref(false);
  const error = ref<unknown>(null);
  let generation = 0;

  async function load(limit = DEVICE_PAGE): Promise<void> {
    const mine = ++generation;
    try {
      const page = await api.devices({ ...query(filters.value), limit });
      if (mine !== generation) return;
      rows.value = page.devices;
      total.value = page.total;
      nextCursor.value = page.nextCursor;
      loaded.value = true;
      error.value = null;
    } catch (err) {
      if (mine !== generation) return;
      error.value = err;
      endedOn401(err);
    }
  }

  async function more(): Promise<void> {
    const cursor = nextCursor.value;
    if (cursor === null) return;
    const mine = generation;
    try {
      const page = await api.devices({ ...query(filters.value), limit: DEVICE_PAGE, cursor });
      if (mine !== generation) return;
      const known = new Set(rows.value.map((d) => d.id));
      rows.value = [...rows.value, ...page.devices.filter((d) => !known.has(d.id))];
      total.value = page.total;
      nextCursor.value = page.nextCursor;
    } catch (err) {
      if (mine !== generation) return;
      error.value = err;
      endedOn401(err);
    }
  }

  /** The device's area lies in the chosen one (the areas this login sees make the tree). */
  function inArea(d: Device, area: string | null): boolean {
    if (area === null) return true;
    const parents = new Map(areas.value.map((a) => [a.id, a.parent]));
    for (let a = d.area, n = 0; a !== null && n <= parents.size; n++) {
      if (a === area) return true;
      a = parents.get(a) ?? null;
    }
    return false;
  }

  /** The server's filters, for a device pushed over /api/live (routes/devices.ts). */
  function matches(d: Device): boolean {
    const f = filters.value;
    const text = f.text?.toLowerCase();
    const has = (v: string | undefined) => text !== undefined && v?.toLowerCase().includes(text) === true;
    return (
      (f.state === null || d.online === (f.state === 'online')) &&
      (f.kind === null || d.state?.kind === f.kind) &&
      (f.site === null || d.state?.site === f.site) &&
      (text === undefined || has(d.id) || has(d.state?.site) || has(d.state?.location)) &&
      inArea(d, f.area)
    );
  }

  onLive((m) => {
    if ((m.type !== 'reading' && m.type !== 'deviceState') || !loaded.value) return;
    const d = m.data.device;
    const i = rows.value.findIndex((r) => r.id === d.id);
    if (i >= 0) {
      if (matches(d)) rows.value[i] = d;
      else {
        rows.value.splice(i, 1);
        total.value--;
      }
      return;
    }
    // A device not listed: new to the server, or not on the pages loaded.
    if (!matches(d)) return;
    const last = rows.value.at(-1);
    if (nextCursor.value !== null && (last === undefined || d.id > last.id)) return;
    const at = rows.value.findIndex((r) => r.id > d.id);
    rows.value.splice(at < 0 ? rows.value.length : at, 0, d);
    total.value++;
  });

  watch(
    filters,
    () => {
      loaded.value = false;
      void load();
    },
    { deep: true },
  );
  // After a reconnect: what happened meanwhile is only in the list (as many rows as were shown).
  watch(live.connected, (now, before) => {
    if (now && !before && loaded.value) void load(Math.max(DEVICE_PAGE, rows.value.length));
  });
  void load();

  return { rows, total, nextCursor, loaded, error, more };
}
