import { computed, ref, shallowRef, watch } from 'vue';
import { useI18n } from 'vue-i18n';
import { api } from '../api/client';
import type { LiveMessage, Permit } from '../api/types';
import { useSession } from './useSession';

/** An evacuation alert: the server stopped the work of a permit (docs/permits.md "During the work"). */
export interface Evacuation {
  permitId: string;
  /** The suspension's signed record: an acknowledgement is of this one. */
  seq: number;
  location: string;
  /** alarm, reading_failed, offline, detector_status, permit_expired. */
  reason: string;
  /** What the server saw, in each language (a live alert), else null (found in the list). */
  text: { 'zh-CN': string; en: string } | null;
  /** When this console learned of it, ms. */
  at: number;
}

/** Acknowledgements kept per browser and login: the last ones only. */
const KEPT = 200;
const storageKey = (user: string) => `gaswatch.evacuations.acked.${user}`;

/**
 * The evacuation alerts of this login (the duty room's): pushed as `permit` messages of kind
 * `evacuate`, and found again in the suspended permits the server stopped whenever the socket
 * (re)opens, so a console opened after the alert shows it too. Each stays — a red banner on every
 * page and the critical sound — until someone at this console acknowledges it on the permit's
 * page, or the permit leaves that suspension (a new test, close-out). Acknowledgements are kept in
 * this browser: each console in a duty room must be answered, none silences another.
 */
export function useEvacuations() {
  const { who } = useSession();
  const { locale, t } = useI18n();
  const user = () => who.value?.user.username ?? '';
  const alerts = ref<Evacuation[]>([]);

  function readAcked(): string[] {
    try {
      const v = JSON.parse(localStorage.getItem(storageKey(user())) ?? '[]') as unknown;
      return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
    } catch {
      return [];
    }
  }
  const acked = ref(new Set(readAcked()));
  /**
   * shared/'s permit words, loaded only when an alert found in the list needs them (a pushed one
   * comes worded): the first load of every console stays without them.
   */
  const words = shallowRef<typeof import('@gaswatch/shared/permit-words') | null>(null);
  const needWords = () => {
    if (words.value === null)
      import('@gaswatch/shared/permit-words').then(
        (m) => (words.value = m),
        () => undefined,
      );
  };
  const key = (e: Pick<Evacuation, 'permitId' | 'seq'>) => `${e.permitId}#${e.seq}`;

  function add(e: Evacuation): void {
    if (acked.value.has(key(e))) return;
    const rest = alerts.value.filter((x) => x.permitId !== e.permitId);
    alerts.value = [...rest, e];
  }

  /** Someone here knows: the banner and the sound stop for this one. */
  function acknowledge(e: Pick<Evacuation, 'permitId' | 'seq'>): void {
    const list = [...readAcked().filter((k) => k !== key(e)), key(e)].slice(-KEPT);
    acked.value = new Set(list);
    try {
      localStorage.setItem(storageKey(user()), JSON.stringify(list));
    } catch {
      // Private mode: acknowledged for this page's life only.
    }
    alerts.value = alerts.value.filter((x) => key(x) !== key(e));
  }

  /** The suspended permits the server stopped, as alerts (after a (re)connect). */
  async function load(): Promise<void> {
    const started = Date.now();
    const found: Permit[] = [];
    let cursor: string | undefined;
    // Suspended permits are few; 4 pages of 200 is more than any area has at once.
    for (let i = 0; i < 4; i++) {
      const page = await api.permits({ state: 'suspended', limit: 200, cursor });
      found.push(...page.permits);
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    const now = Date.now();
    const stopped = found.filter((p) => p.suspension?.retest === true && p.suspension.by === 'system');
    const live = new Map(alerts.value.map((a) => [key(a), a]));
    const listed = stopped.map((p) => {
      const s = p.suspension as NonNullable<Permit['suspension']>;
      const e = { permitId: p.id, seq: s.seq, location: p.location, reason: s.reason, text: null, at: now };
      return live.get(key(e)) ?? e;
    });
    // One pushed while the list was being read may be newer than the list.
    const ids = new Set(listed.map((e) => e.permitId));
    const newer = alerts.value.filter((a) => a.at >= started && !ids.has(a.permitId));
    alerts.value = [...listed, ...newer].filter((e) => !acked.value.has(key(e)));
    if (alerts.value.some((e) => e.text === null)) needWords();
  }

  function apply(m: LiveMessage): void {
    if (m.type !== 'permit') return;
    const d = m.data;
    if (d.kind === 'evacuate' && d.seq !== undefined)
      add({
        permitId: d.permitId,
        seq: d.seq,
        location: d.location ?? '',
        reason: d.reason ?? 'alarm',
        text: d.text ?? null,
        at: Date.now(),
      });
    // Tested again, closed, cancelled: that evacuation is over (an expired permit stays until known).
    else if (d.state !== 'suspended' && d.state !== 'expired')
      alerts.value = alerts.value.filter((a) => a.permitId !== d.permitId);
  }

  // Another login in this browser has its own acknowledgements.
  watch(
    () => user(),
    () => {
      acked.value = new Set(readAcked());
      alerts.value = [];
    },
  );

  /** An alert in the page's language: the server's own words when it was pushed. */
  function textOf(e: Evacuation): string {
    const lang = locale.value === 'zh-CN' ? 'zh-CN' : 'en';
    if (e.text !== null) return e.text[lang];
    if (words.value === null) return t('evacuation.stopped', { location: e.location });
    const why = words.value.permitRefusalText(lang, { code: 'evacuated', params: { reason: e.reason } });
    return `${e.location}${lang === 'zh-CN' ? '：' : ': '}${why}`;
  }
  /** What the alarm sound and the browser notification say of each. */
  const forSound = computed(() =>
    alerts.value.map((e) => ({
      id: `evacuate:${key(e)}`,
      title: t('evacuation.title'),
      body: textOf(e),
    })),
  );

  return { alerts, load, apply, acknowledge, textOf, forSound };
}
