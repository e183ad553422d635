import { onScopeDispose, ref } from 'vue';
import type { LiveMessage } from '../api/types';

/** The server sends a heartbeat every 2 s: a socket silent this long is dropped. */
export const SILENT_MS = 5000;
const RETRY_MS = 2000;
/** What the server closes a socket with when its login ended (routes/live.ts LOGIN_ENDED). */
const LOGIN_ENDED = 4401;

/**
 * The /api/live socket of this login: reconnects after a drop, and `stale` turns true when
 * nothing (not even a heartbeat) came for SILENT_MS — a hung server keeps its sockets open.
 * `onOpen` runs on every (re)connect: what happened meanwhile is only in the lists.
 */
export function useLive(handlers: {
  onOpen: () => void;
  onMessage: (m: LiveMessage) => void;
  onLoginEnded: () => void;
}) {
  const stale = ref(false);
  const connected = ref(false);
  const silentForS = ref(0);
  let ws: WebSocket | null = null;
  let lastHeard = Date.now();
  /** When the current socket was opened: a new one gets SILENT_MS of its own to answer. */
  let socketSince = Date.now();
  let stopped = false;
  let retry: ReturnType<typeof setTimeout> | undefined;

  function connect(): void {
    if (stopped || ws !== null) return;
    const socket = new WebSocket(
      `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/live`,
    );
    ws = socket;
    socketSince = Date.now();
    let openedAt: number | null = null;
    socket.onopen = () => {
      if (ws !== socket) return;
      openedAt = lastHeard = Date.now();
      connected.value = true;
      handlers.onOpen();
    };
    socket.onmessage = (ev: MessageEvent<string>) => {
      if (ws !== socket) return;
      lastHeard = Date.now();
      stale.value = false;
      let m: LiveMessage;
      try {
        m = JSON.parse(ev.data) as LiveMessage;
      } catch {
        return;
      }
      handlers.onMessage(m);
    };
    socket.onclose = (ev: CloseEvent) => {
      if (ws !== socket) return;
      ws = null;
      connected.value = false;
      if (ev.code === LOGIN_ENDED) {
        handlers.onLoginEnded();
        return;
      }
      // A socket that lasted under a period waits one: a server closing every socket must not spin.
      const wait = openedAt !== null && Date.now() - openedAt > RETRY_MS ? 0 : RETRY_MS;
      retry = setTimeout(connect, wait);
    };
  }

  // Staleness on its own clock: a hung server sends no close.
  const watch = setInterval(() => {
    const silent = Date.now() - lastHeard;
    silentForS.value = Math.floor(silent / 1000);
    if (silent <= SILENT_MS) return;
    stale.value = true;
    if (ws !== null && Date.now() - socketSince > SILENT_MS) {
      const old = ws;
      ws = null;
      connected.value = false;
      old.close();
      connect();
    }
  }, 1000);

  function stop(): void {
    stopped = true;
    clearInterval(watch);
    clearTimeout(retry);
    const old = ws;
    ws = null;
    old?.close();
  }
  onScopeDispose(stop);
  connect();
  return { stale, connected, silentForS, stop };
}
