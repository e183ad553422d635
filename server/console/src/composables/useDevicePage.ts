import { computed, type Ref, ref, shallowRef, watch } from 'vue';
import { ApiError, api } from '../api/client';
import type { Alarm, DeviceDetail, DeviceEventRow } from '../api/types';
import { addToBuckets, type ChartPoint, everyFor, RANGES, type RangeId } from '../readings';
import { useDutyRoom } from './useDutyRoom';

/** Alarms and events a device page shows at first: the newest. */
export const ALARMS_SHOWN = 20;
export const EVENTS_SHOWN = 50;

/** The readings of the chosen range, one bucket list per gas. */
export interface ChartData {
  range: RangeId;
  every: string;
  everyMs: number;
  from: number;
  to: number;
  byGas: Map<string, ChartPoint[]>;
}

/** An interlock output as its gateway last reported it. */
export interface OutputState {
  name: string;
  position: 'closed' | 'open' | 'on' | 'off' | null;
  value: boolean;
  alarmPosition: boolean | null;
  at: string;
}

/**
 * One device's page: its row with the set points, its readings in buckets for a range, its
 * alarms, its gateway events and what its interlock outputs were last set to. Loaded when opened
 * and after a reconnect of the live socket, then patched by what the socket pushes (readings go
 * into the chart's last bucket, alarms and events into their lists) without asking again.
 */
export function useDevicePage(id: Ref<string>) {
  const { onLive, live, serverNow, endedOn401 } = useDutyRoom();
  const detail = ref<DeviceDetail | null>(null);
  const notFound = ref(false);
  const error = ref<unknown>(null);
  const alarms = ref<Alarm[]>([]);
  const alarmsTotal = ref(0);
  const alarmsCursor = ref<string | null>(null);
  const events = ref<DeviceEventRow[]>([]);
  const range = ref<RangeId>('24h');
  const chart = shallowRef<ChartData | null>(null);
  const chartError = ref<unknown>(null);
  const chartLoading = ref(false);
  let generation = 0;
  let chartGeneration = 0;

  const failed = (err: unknown) => {
    endedOn401(err);
    return err;
  };

  async function loadChart(): Promise<void> {
    const mine = ++chartGeneration;
    const dev = id.value;
    const span = RANGES.find((r) => r.id === range.value)?.ms ?? 86_400_000;
    const { every, everyMs } = everyFor(span);
    const to = serverNow();
    // Buckets on round times (every 15 s from :00), so a live reading lands in the right one.
    const from = Math.floor((to - span) / everyMs) * everyMs;
    chartLoading.value = true;
    try {
      const answer = await api.readings({
        device: dev,
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        every,
        limit: 10_000,
      });
      if (mine !== chartGeneration) return;
      const byGas = new Map<string, ChartPoint[]>();
      for (const r of answer.rows) {
        const list = byGas.get(r.gas) ?? [];
        list.push({ ts: Date.parse(r.ts), mean: r.mean, min: r.min, max: r.max, count: r.count });
        byGas.set(r.gas, list);
      }
      chart.value = { range: range.value, every, everyMs: answer.everyMs ?? everyMs, from, to, byGas };
      chartError.value = null;
    } catch (err) {
      if (mine === chartGeneration) chartError.value = failed(err);
    } finally {
      if (mine === chartGeneration) chartLoading.value = false;
    }
  }

  async function load(): Promise<void> {
    const mine = ++generation;
    const dev = id.value;
    try {
      const [d, a, e] = await Promise.all([
        api.device(dev),
        api.deviceAlarms(dev, ALARMS_SHOWN),
        api.deviceEvents(dev, EVENTS_SHOWN),
      ]);
      if (mine !== generation) return;
      detail.value = d;
      alarms.value = a.alarms;
      alarmsTotal.value = a.total;
      alarmsCursor.value = a.nextCursor;
      events.value = e;
      notFound.value = false;
      error.value = null;
    } catch (err) {
      if (mine !== generation) return;
      if (err instanceof ApiError && err.status === 404) notFound.value = true;
      else error.value = failed(err);
    }
    if (!notFound.value) await loadChart();
  }

  async function moreAlarms(): Promise<void> {
    const cursor = alarmsCursor.value;
    if (cursor === null) return;
    const mine = generation;
    try {
      const page = await api.deviceAlarms(id.value, ALARMS_SHOWN, cursor);
      if (mine !== generation) return;
      const known = new Set(alarms.value.map((a) => a.id));
      alarms.value = [...alarms.value, ...page.alarms.filter((a) => !known.has(a.id))];
      alarmsTotal.value = page.total;
      alarmsCursor.value = page.nextCursor;
    } catch (err) {
      error.value = failed(err);
    }
  }

  onLive((m) => {
    const dev = id.value;
    if ((m.type === 'reading' || m.type === 'deviceState') && m.data.dev === dev) {
      const old = detail.value;
      if (old === null) return;
      const row = m.data.device;
      // A new kind or site may mean other alarm rules: ask for the set points again.
      if (row.state?.kind !== old.state?.kind || row.state?.site !== old.state?.site) void load();
      detail.value = { ...old, ...row };
      const c = chart.value;
      if (m.type === 'reading' && c !== null) {
        const ts = Date.parse(m.data.ts);
        const byGas = new Map(c.byGas);
        for (const [gas, v] of Object.entries(m.data.values)) {
          if (typeof v !== 'number') continue;
          const points = [...(byGas.get(gas) ?? [])];
          addToBuckets(points, c.from, c.everyMs, ts, v);
          byGas.set(gas, points);
        }
        const to = Math.max(c.to, serverNow(), ts);
        // The window slides: what fell out of the range goes.
        const from = c.from + Math.floor((to - c.to) / c.everyMs) * c.everyMs;
        if (from > c.from)
          for (const [gas, p] of byGas)
            byGas.set(
              gas,
              p.filter((x) => x.ts >= from),
            );
        chart.value = { ...c, from, to, byGas };
      }
    } else if (m.type === 'alarm' && m.data.alarm !== null && m.data.alarm.dev === dev) {
      const a = m.data.alarm;
      const i = alarms.value.findIndex((x) => x.id === a.id);
      if (i < 0) {
        alarms.value = [a, ...alarms.value];
        alarmsTotal.value++;
      } else if ((alarms.value[i]?.seq ?? 0) <= a.seq) {
        alarms.value = alarms.value.map((x) => (x.id === a.id ? a : x));
      }
    } else if (m.type === 'deviceEvent' && m.data.dev === dev) {
      const e = m.data;
      if (!events.value.some((x) => x.id === e.id))
        events.value = [e, ...events.value].slice(0, EVENTS_SHOWN);
    }
  });

  /** Each output's last reported position, newest event first. */
  const outputs = computed<OutputState[]>(() => {
    const seen = new Map<string, OutputState>();
    const newestFirst = [...events.value].sort((a, b) => Date.parse(b.ts) - Date.parse(a.ts));
    for (const e of newestFirst)
      for (const o of e.outputs ?? [])
        if (!seen.has(o.name))
          seen.set(o.name, {
            name: o.name,
            position: o.position,
            value: o.value,
            alarmPosition: o.alarmPosition,
            at: e.ts,
          });
    return [...seen.values()];
  });

  watch(id, () => {
    detail.value = null;
    chart.value = null;
    void load();
  });
  watch(range, () => void loadChart());
  // After a reconnect: what happened meanwhile is only in the lists.
  watch(live.connected, (now, before) => {
    if (now && !before) void load();
  });
  void load();

  return {
    detail,
    notFound,
    error,
    alarms,
    alarmsTotal,
    alarmsCursor,
    moreAlarms,
    events,
    outputs,
    range,
    chart,
    chartError,
    chartLoading,
  };
}
