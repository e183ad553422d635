import { onScopeDispose, type Ref, ref, watch } from 'vue';
import type { Alarm } from '../api/types';
import { PATTERNS } from '../sound-patterns';

export { PATTERNS };

/** A browser notification is raised again this often while its alarm is unacknowledged. */
export const RENOTIFY_MS = { critical: 30_000, warning: 120_000 } as const;
/** How long an operator may mute warnings; criticals cannot be muted. */
export const WARNING_MUTE_MS = 10 * 60_000;

type NotificationOptionsWithRenotify = NotificationOptions & { renotify?: boolean };

/** Something else that sounds as a critical alarm until acknowledged: an evacuation alert. */
export interface CriticalCall {
  id: string;
  title: string;
  body: string;
}

/**
 * Sounds and notifies while any alarm awaits acknowledgement (critical over warning), until
 * someone acknowledges it. Warnings may be muted for WARNING_MUTE_MS; criticals never. `calls`
 * (evacuation alerts) sound the critical pattern too, whatever the alarms.
 */
export function useAlarmSound(
  unacked: Ref<Alarm[]>,
  describe: (a: Alarm) => { title: string; body: string },
  calls: Ref<CriticalCall[]> = ref([]),
) {
  const mutedUntil = ref(0);
  /** The browser holds the sound back until a click on the page (autoplay rules). */
  const soundBlocked = ref(false);
  const sounding = ref<Alarm['severity'] | null>(null);
  let ctx: AudioContext | null = null;
  const next = { critical: 0, warning: 0 };
  const notified = new Map<string, number>();
  /** Alarms already sounded for: a new one sounds at once, not at the pattern's next period. */
  const heard = new Set<string>();

  const unlock = () => void ctx?.resume().then(() => (soundBlocked.value = ctx?.state !== 'running'));
  document.addEventListener('pointerdown', unlock);
  document.addEventListener('keydown', unlock);

  function play(severity: Alarm['severity']): void {
    ctx ??= new AudioContext();
    if (ctx.state === 'suspended') void ctx.resume().catch(() => undefined);
    soundBlocked.value = ctx.state !== 'running';
    const p = PATTERNS[severity];
    let t = ctx.currentTime + 0.02;
    for (const hz of p.tones) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = p.wave;
      osc.frequency.value = hz;
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(severity === 'critical' ? 0.5 : 0.25, t + 0.01);
      gain.gain.setValueAtTime(severity === 'critical' ? 0.5 : 0.25, t + p.toneS - 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + p.toneS);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t);
      osc.stop(t + p.toneS);
      t += p.toneS + p.gapS;
    }
  }

  function notify(
    a: Pick<Alarm, 'id' | 'severity'>,
    now: number,
    words: () => CriticalCall | { title: string; body: string },
  ): void {
    if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
    const last = notified.get(a.id);
    if (last !== undefined && now - last < RENOTIFY_MS[a.severity]) return;
    notified.set(a.id, now);
    const { title, body } = words();
    const options: NotificationOptionsWithRenotify = {
      body,
      tag: a.id,
      renotify: true,
      requireInteraction: a.severity === 'critical',
    };
    const n = new Notification(title, options);
    n.onclick = () => window.focus();
  }

  function tick(): void {
    const now = Date.now();
    const muted = now < mutedUntil.value;
    const audible = [
      ...unacked.value.filter((a) => a.severity === 'critical' || !muted),
      ...calls.value.map((c) => ({ ...c, severity: 'critical' as const })),
    ];
    const open = new Set([...unacked.value.map((a) => a.id), ...calls.value.map((c) => c.id)]);
    for (const id of notified.keys()) if (!open.has(id)) notified.delete(id);
    for (const id of heard) if (!open.has(id)) heard.delete(id);
    for (const a of audible) {
      if (!heard.has(a.id)) {
        heard.add(a.id);
        next[a.severity] = 0;
      }
      notify(a, now, () => ('title' in a ? a : describe(a)));
    }
    const severity = audible.some((a) => a.severity === 'critical')
      ? 'critical'
      : audible.length > 0
        ? 'warning'
        : null;
    sounding.value = severity;
    if (severity === null) return;
    if (now >= next[severity]) {
      next[severity] = now + PATTERNS[severity].periodMs;
      play(severity);
    }
  }

  if (typeof Notification !== 'undefined' && Notification.permission === 'default')
    void Notification.requestPermission().catch(() => undefined);
  // A new alarm sounds the moment it is on the board, not at the next tick; the timer repeats.
  watch([unacked, calls], tick);
  const timer = setInterval(tick, 250);
  tick();
  onScopeDispose(() => {
    clearInterval(timer);
    document.removeEventListener('pointerdown', unlock);
    document.removeEventListener('keydown', unlock);
    void ctx?.close();
  });

  return {
    mutedUntil,
    soundBlocked,
    sounding,
    muteWarnings: () => {
      mutedUntil.value = Date.now() + WARNING_MUTE_MS;
    },
    unmute: () => {
      mutedUntil.value = 0;
    },
  };
}
