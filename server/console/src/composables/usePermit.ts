import { onScopeDispose, type Ref, ref, watch } from 'vue';
import { ApiError, api } from '../api/client';
import type { LiveReading, PermitDetail } from '../api/types';
import { useDutyRoom } from './useDutyRoom';

/**
 * One permit as its pages show it (GET /api/permits/:id: the permit, its signed records, tests,
 * monitoring and what this login may do now), asked again when the live socket says the permit
 * changed (a pushed change carries no detail: the actions this login may take depend on it) and
 * after a reconnect; and the latest reading of the detector that watches it or tests it, as pushed.
 */
export function usePermit(id: Ref<string>) {
  const { onLive, live, endedOn401, serverNow } = useDutyRoom();
  const detail = ref<PermitDetail | null>(null);
  const missing = ref(false);
  const error = ref<string | null>(null);
  /** Device id → its latest pushed reading. */
  const readings = ref(new Map<string, LiveReading>());
  let generation = 0;

  async function load(): Promise<void> {
    const mine = ++generation;
    try {
      const d = await api.permit(id.value);
      if (mine !== generation) return;
      detail.value = d;
      error.value = null;
      missing.value = false;
    } catch (err) {
      if (mine !== generation) return;
      endedOn401(err);
      if (err instanceof ApiError && err.status === 404) missing.value = true;
      else error.value = err instanceof Error ? err.message : String(err);
    }
  }

  let again: ReturnType<typeof setTimeout> | undefined;
  /** Asks again shortly: a burst of changes (a test's readings, a suspension and its record) asks once. */
  function reload(): void {
    clearTimeout(again);
    again = setTimeout(() => void load(), 300);
  }
  onLive((m) => {
    if (m.type === 'permit' && m.data.permitId === id.value) reload();
    if (m.type === 'reading') {
      const next = new Map(readings.value);
      next.set(m.data.dev, m.data);
      readings.value = next;
    }
  });
  // What this login may do changes with the clock too (the test window closes, a break grows past
  // its limit, the validity ends): asked again just after the next such moment.
  let boundary: ReturnType<typeof setTimeout> | undefined;
  watch(detail, (d) => {
    clearTimeout(boundary);
    const next = d === null ? undefined : nextBoundary(d, serverNow());
    if (next !== undefined)
      boundary = setTimeout(() => void load(), Math.min(next - serverNow() + 1000, 2 ** 31 - 1));
  });
  onScopeDispose(() => {
    clearTimeout(boundary);
    clearTimeout(again);
  });
  watch(live.connected, (now, before) => {
    if (now && !before) void load();
  });
  watch(
    id,
    () => {
      detail.value = null;
      void load();
    },
    { immediate: true },
  );
  return { detail, missing, error, readings, load, reload };
}

/**
 * The next moment, server time (ms), after `now` when the permit's actions change by the clock
 * alone: the planned start, the end of the test window, a break passing its limit, the validity's
 * end. Undefined for a permit that is finished.
 */
export function nextBoundary(d: PermitDetail, now: number): number | undefined {
  const p = d.permit;
  if (p.closedAt !== null) return undefined;
  const min = 60_000;
  const passed = d.tests.filter((x) => x.status === 'passed' && x.completedAt !== null).at(-1);
  const times = [
    Date.parse(p.plannedStart),
    Date.parse(p.validUntil),
    passed?.completedAt ? Date.parse(passed.completedAt) + p.rules.testWindowMin * min : Number.NaN,
    p.suspension !== null ? Date.parse(p.suspension.at) + p.rules.interruptionMin * min : Number.NaN,
  ].filter((x) => Number.isFinite(x) && x >= now);
  return times.length === 0 ? undefined : Math.min(...times);
}
