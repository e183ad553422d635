import { type Ref, ref, watch } from 'vue';
import { api } from '../api/client';
import type { Device } from '../api/types';
import { useAreas } from './useAreas';
import { useDutyRoom } from './useDutyRoom';

/** Devices asked for at a time. */
export const DEVICE_PAGE = 50;

/**
 * The device list of this login, in `area` (null: all it sees), paged by the server with a
 * cursor. Loaded at start, on an area change and after a reconnect; then each pushed reading or
 * device state replaces its device's row, and a device first seen joins the list where it sorts
 * (when it falls on the pages loaded) without asking again.
 */
export function useDeviceList(area: Ref<string | null>) {
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
      const page = await api.devices({ area: area.value ?? undefined, limit });
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
      const page = await api.devices({ area: area.value ?? undefined, limit: DEVICE_PAGE, cursor });
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
  function inArea(d: Device): boolean {
    if (area.value === null) return true;
    const parents = new Map(areas.value.map((a) => [a.id, a.parent]));
    for (let a = d.area, n = 0; a !== null && n <= parents.size; n++) {
      if (a === area.value) return true;
      a = parents.get(a) ?? null;
    }
    return false;
  }

  onLive((m) => {
    if ((m.type !== 'reading' && m.type !== 'deviceState') || !loaded.value) return;
    const d = m.data.device;
    const i = rows.value.findIndex((r) => r.id === d.id);
    if (i >= 0) {
      if (inArea(d)) rows.value[i] = d;
      else {
        rows.value.splice(i, 1);
        total.value--;
      }
      return;
    }
    // A device not listed: new to the server, or not on the pages loaded.
    if (!inArea(d)) return;
    const last = rows.value.at(-1);
    if (nextCursor.value !== null && (last === undefined || d.id > last.id)) return;
    const at = rows.value.findIndex((r) => r.id > d.id);
    rows.value.splice(at < 0 ? rows.value.length : at, 0, d);
    total.value++;
  });

  watch(area, () => {
    loaded.value = false;
    void load();
  });
  // After a reconnect: what happened meanwhile is only in the list (as many rows as were shown).
  watch(live.connected, (now, before) => {
    if (now && !before && loaded.value) void load(Math.max(DEVICE_PAGE, rows.value.length));
  });
  void load();

  return { rows, total, nextCursor, loaded, error, more };
}
