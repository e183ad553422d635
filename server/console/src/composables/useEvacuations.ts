import { computed, ref, shallowRef, watch } from 'vue';
import { useI18n } from 'vue-i18n';
import { ApiError, api } from '../api/client';
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
  /** The work site's sounder as last heard of (Permit.sounder, `sounder` events); null: not yet. */
  sounder: Permit['sounder'];
  /** The command `sounder` is of, when pushed. */
  sounderCommand?: string | undefined;
  /** When this console learned of it, ms. */
  at: number;
}

/** What became of an acknowledgement sent from here. */
export type AckOutcome = 'acked' | 'stale';

/**
 * The evacuation alerts of this login (the duty room's): pushed as `permit` messages of kind
 * `evacuate`, and found again in the permits the server stopped whenever the socket (re)opens, so
 * a console opened after the alert shows it too. Each stays — a red banner on every page and the
 * critical sound — until someone acknowledges it on the permit's page, or the permit leaves that
 * evacuation (a new test, close-out). The acknowledgement is the server's (POST
 * /api/permits/:id/evacuation/ack): one person at one console answers for the duty room, every
 * console of the area hears it (`evacuation_ack`) and stops at once, and a reload finds it done.
 */
export function useEvacuations() {
  const { who } = useSession();
  const { locale, t } = useI18n();
  const user = () => who.value?.user.username ?? '';
  const alerts = ref<Evacuation[]>([]);
  /** Evacuations acknowledged as this page heard it: a list read just before stays answered. */
  const acked = new Set<string>();
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
    if (acked.has(key(e))) return;
    const rest = alerts.value.filter((x) => x.permitId !== e.permitId);
    alerts.value = [...rest, e];
  }
  function drop(e: Pick<Evacuation, 'permitId' | 'seq'>): void {
    acked.add(key(e));
    alerts.value = alerts.value.filter((x) => key(x) !== key(e));
  }

  /**
   * Someone here knows: recorded on the server, and the banner and the sound stop here and on
   * every other console. `stale` when the permit had left that evacuation already (tested again,
   * closed): nothing to answer, the banner goes too. Other refusals (a viewer: 403) are thrown.
   */
  async function acknowledge(e: Pick<Evacuation, 'permitId' | 'seq'>): Promise<AckOutcome> {
    try {
      await api.ackEvacuation(e.permitId, e.seq, who.value?.csrfToken ?? null);
      drop(e);
      return 'acked';
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 'stale_evacuation')) throw err;
      drop(e);
      return 'stale';
    }
  }

  /** The permits the server stopped and nobody acknowledged yet, as alerts (after a (re)connect). */
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
    const live = new Map(alerts.value.map((a) => [key(a), a]));
    const listed = found.flatMap((p) => {
      const v = p.evacuation;
      if (v === null || v.acknowledged !== null) return [];
      const e = {
        permitId: p.id,
        seq: v.seq,
        location: p.location,
        reason: v.reason,
        text: null,
        sounder: p.sounder,
        at: now,
      };
      const pushed = live.get(key(e));
      return [pushed === undefined ? e : { ...pushed, sounder: pushed.sounder ?? p.sounder }];
    });
    // One pushed while the list was being read may be newer than the list.
    const ids = new Set(listed.map((e) => e.permitId));
    const newer = alerts.value.filter((a) => a.at >= started && !ids.has(a.permitId));
    alerts.value = [...listed, ...newer].filter((e) => !acked.has(key(e)));
    if (alerts.value.some((e) => e.text === null)) needWords();
  }

  /** A sounder event for the alert of its permit: the gateway's answer is not undone by a late `sent`. */
  function sounderHeard(d: Extract<LiveMessage, { type: 'permit' }>['data']): void {
    const status = d.status;
    if (status === undefined) return;
    alerts.value = alerts.value.map((a) => {
      if (a.permitId !== d.permitId) return a;
      const answered = a.sounder !== null && ['sounding', 'refused'].includes(a.sounder.status);
      if (answered && (status === 'sent' || status === 'send_failed') && a.sounderCommand === d.command)
        return a;
      const sounder = { status, message: d.message ?? '', at: new Date(d.at).toISOString() };
      return { ...a, sounder, sounderCommand: d.command };
    });
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
        sounder: null,
        at: Date.now(),
      });
    // Someone at a console (this one or another) took it in: it stops everywhere.
    else if (d.kind === 'evacuation_ack' && d.seq !== undefined) drop({ permitId: d.permitId, seq: d.seq });
    else if (d.kind === 'sounder') sounderHeard(d);
    // Tested again, closed, cancelled: that evacuation is over (an expired permit stays until known).
    else if (d.state !== 'suspended' && d.state !== 'expired')
      alerts.value = alerts.value.filter((a) => a.permitId !== d.permitId);
  }

  // Another login in this browser sees other areas: its alerts are read again.
  watch(
    () => user(),
    () => {
      acked.clear();
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
