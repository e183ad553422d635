import { type InjectionKey, inject, onScopeDispose, provide, ref, watch } from 'vue';
import { useI18n } from 'vue-i18n';
import { ApiError } from '../api/client';
import { useAlarmSound } from './useAlarmSound';
import { useAlarms } from './useAlarms';
import { useAlarmText } from './useAlarmText';
import { useCatalogue } from './useCatalogue';
import { useEvacuations } from './useEvacuations';
import { useLive } from './useLive';
import { useSession } from './useSession';

/**
 * What every page of a login shares: the live socket, the open alarms and their sound. Made once
 * by the shell, so an alarm sounds whichever page the operator is on, and a page change neither
 * drops the socket nor reloads the alarms.
 */
function createDutyRoom() {
  const { locale } = useI18n();
  const { ended } = useSession();
  const { load: loadCatalogue } = useCatalogue();
  const alarms = useAlarms();
  const { notification } = useAlarmText();
  /** Evacuation alerts of permits (issue 14): on every page, sounding until acknowledged. */
  const evacuations = useEvacuations();

  /** A 401 anywhere ends the login: the login form says so. */
  const endedOn401 = (err: unknown) => {
    if (err instanceof ApiError && err.status === 401) ended('login.ended');
  };
  watch(alarms.loadError, endedOn401);

  /** Server clock minus this browser's, from the last heartbeat (device ages are server times). */
  let skewMs = 0;
  /** The server's time now, as far as the heartbeats tell. */
  const serverNow = () => Date.now() + skewMs;

  /** Pages that want every live message (a device page's readings) subscribe here. */
  const listeners = new Set<(m: Parameters<typeof alarms.apply>[0]) => void>();
  const live = useLive({
    onOpen: () => {
      loadCatalogue().then(alarms.load, endedOn401);
      evacuations.load().catch(endedOn401);
    },
    onMessage: (m) => {
      if (m.type === 'heartbeat') {
        const at = Date.parse(m.data.now);
        if (Number.isFinite(at)) skewMs = at - Date.now();
      }
      alarms.apply(m);
      evacuations.apply(m);
      for (const l of listeners) l(m);
    },
    onLoginEnded: () => ended('login.ended'),
  });
  const sound = useAlarmSound(alarms.unacked, notification, evacuations.forSound);

  /** Ticks every 2 s: ages on cards, and a failed alarm list tried again while the socket is up. */
  const now = ref(Date.now());
  const clock = setInterval(() => {
    now.value = Date.now();
    if (alarms.loadError.value !== null && live.connected.value) void alarms.load();
  }, 2000);
  onScopeDispose(() => clearInterval(clock));

  watch(
    [() => alarms.unacked.value.length + evacuations.alerts.value.length, live.stale, locale],
    ([n, stale]) => {
      const base = n > 0 ? `(${n}) gaswatch` : 'gaswatch';
      document.title = stale ? `⚠ ${base}` : base;
    },
    { immediate: true },
  );

  function onLive(l: (m: Parameters<typeof alarms.apply>[0]) => void): void {
    listeners.add(l);
    onScopeDispose(() => listeners.delete(l));
  }

  return { alarms, evacuations, live, sound, now, serverNow, endedOn401, onLive };
}

export type DutyRoom = ReturnType<typeof createDutyRoom>;
const KEY: InjectionKey<DutyRoom> = Symbol('duty-room');

/** In the shell: makes the duty room of this login and hands it to every page below. */
export function provideDutyRoom(): DutyRoom {
  const room = createDutyRoom();
  provide(KEY, room);
  return room;
}

/** In a page: the shell's duty room. */
export function useDutyRoom(): DutyRoom {
  const room = inject(KEY);
  if (room === undefined) throw new Error('useDutyRoom outside the console shell');
  return room;
}
