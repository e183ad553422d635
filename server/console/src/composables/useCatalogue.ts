import { computed, ref } from 'vue';
import { api } from '../api/client';
import type { ConsoleCatalogue } from '../api/types';

const catalogue = ref<ConsoleCatalogue | null>(null);
let loading: Promise<void> | null = null;

/**
 * The server's catalogue (gas units, alarm states, event types, from shared/ and the alarm
 * model): the app keeps no list of its own. Loaded once per page, after login.
 */
export function useCatalogue() {
  function load(): Promise<void> {
    loading ??= api
      .catalogue()
      .then((c) => {
        catalogue.value = c;
      })
      .catch((err: unknown) => {
        loading = null;
        throw err;
      });
    return loading;
  }
  const unitOf = (gas: string | undefined) =>
    gas === undefined ? '' : (catalogue.value?.gases[gas as keyof ConsoleCatalogue['gases']]?.unit ?? '');
  /** State id → its place among open alarms (needing action first). */
  const stateOrder = computed(
    () => new Map(catalogue.value?.alarmStates.map((s, i) => [s.id, i] as const) ?? []),
  );
  const needsAck = (state: string) =>
    // Before the catalogue is in, an alarm is taken as needing acknowledgement: loud, never silent.
    catalogue.value?.alarmStates.find((s) => s.id === state)?.needsAck ?? true;
  const isOpen = (state: string) => catalogue.value?.alarmStates.find((s) => s.id === state)?.open ?? true;
  return { catalogue, load, unitOf, stateOrder, needsAck, isOpen };
}
