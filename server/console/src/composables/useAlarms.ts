import { computed, ref } from 'vue';
import { api } from '../api/client';
import type { Alarm, LiveMessage } from '../api/types';
import { useCatalogue } from './useCatalogue';
import { useSession } from './useSession';

const SEVERITY_ORDER: Record<Alarm['severity'], number> = { critical: 0, warning: 1 };
const vulnerable = (a: Alarm) => (a.household?.vulnerable.length ?? 0) > 0;

/**
 * The open alarms of this login: loaded on each (re)connect of the live socket, then patched by
 * what it pushes (an alarm transition replaces its row) without asking again.
 */
export function useAlarms() {
  const { needsAck, isOpen, stateOrder } = useCatalogue();
  const { who } = useSession();
  const byId = ref(new Map<string, Alarm>());
  const loaded = ref(false);
  const loadError = ref<unknown>(null);
  /** Open alarms the last load left out (the board lists the newest 1 000); 0 when it has them all. */
  const notListed = ref(0);
  let generation = 0;

  async function load(): Promise<void> {
    const mine = ++generation;
    try {
      const { alarms, total } = await api.openAlarms();
      if (mine !== generation) return;
      byId.value = new Map(alarms.map((a) => [a.id, a]));
      notListed.value = Math.max(0, total - alarms.length);
      loaded.value = true;
      loadError.value = null;
    } catch (err) {
      if (mine === generation) loadError.value = err;
    }
  }

  function put(a: Alarm): void {
    const known = byId.value.get(a.id);
    // A transition pushed before a newer one already shown is old news.
    if (known !== undefined && known.seq > a.seq) return;
    const next = new Map(byId.value);
    if (isOpen(a.state)) next.set(a.id, a);
    else next.delete(a.id);
    byId.value = next;
  }

  function apply(m: LiveMessage): void {
    if (m.type !== 'alarm') return;
    if (m.data.alarm === null) void load();
    else put(m.data.alarm);
  }

  /**
   * Critical first; within a severity, a household with a vulnerable occupant (SPEC §13: an elderly
   * person alone before a family); then those awaiting acknowledgement; then oldest first.
   */
  const sorted = computed(() =>
    [...byId.value.values()].sort(
      (a, b) =>
        SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
        Number(vulnerable(b)) - Number(vulnerable(a)) ||
        Number(needsAck(b.state)) - Number(needsAck(a.state)) ||
        (stateOrder.value.get(a.state) ?? 0) - (stateOrder.value.get(b.state) ?? 0) ||
        a.raisedAt - b.raisedAt,
    ),
  );
  const unacked = computed(() => sorted.value.filter((a) => needsAck(a.state)));

  async function ack(id: string, note: string): Promise<void> {
    put(await api.ack(id, note, who.value?.csrfToken ?? null));
  }

  /** Acknowledges many with one note; answers those the server refused (and why). */
  async function ackMany(ids: string[], note: string) {
    const answer = await api.ackMany(ids, note, who.value?.csrfToken ?? null);
    for (const a of answer.acknowledged) put(a);
    return answer.refused;
  }

  return { sorted, unacked, loaded, loadError, notListed, load, apply, ack, ackMany, put };
}
