import { computed, type Ref, ref, watch } from 'vue';
import { api } from '../api/client';
import type { BumpTestBody, BumpTestStart, CalibrationBody, MaintenanceView } from '../api/types';
import { roleAtLeastIn } from '../roles';
import { useDutyRoom } from './useDutyRoom';
import { useSession } from './useSession';

/**
 * One device's maintenance (SPEC §11): its fitness for a gas test before work, due dates and last
 * tests. Loaded when the page opens and after a reconnect of the live socket; replaced by what the
 * socket pushes when a test is recorded anywhere (a gateway's result too), without asking again.
 * Recording is for supervisors and above, as the server checks.
 */
export function useMaintenance(id: Ref<string>) {
  const { onLive, live, endedOn401 } = useDutyRoom();
  const { who } = useSession();
  const view = ref<MaintenanceView | null>(null);
  const error = ref<unknown>(null);
  let generation = 0;

  const csrf = () => who.value?.csrfToken ?? null;
  const canRecord = computed(() => who.value !== null && roleAtLeastIn(who.value.user.role, 'supervisor'));

  async function load(): Promise<void> {
    const mine = ++generation;
    try {
      const v = await api.maintenance(id.value);
      if (mine !== generation) return;
      view.value = v;
      error.value = null;
    } catch (err) {
      if (mine !== generation) return;
      endedOn401(err);
      error.value = err;
    }
  }

  onLive((m) => {
    if (m.type === 'maintenance' && m.data.dev === id.value) view.value = m.data.maintenance;
  });

  async function recordBumpTest(body: BumpTestBody): Promise<void> {
    view.value = (await api.addBumpTest(id.value, body, csrf())).maintenance;
  }
  async function recordCalibration(body: CalibrationBody): Promise<void> {
    view.value = (await api.addCalibration(id.value, body, csrf())).maintenance;
  }
  const startBumpTest = (): Promise<BumpTestStart> => api.startBumpTest(id.value, csrf());

  watch(id, () => {
    view.value = null;
    void load();
  });
  watch(live.connected, (now, before) => {
    if (now && !before) void load();
  });
  void load();

  return { view, error, canRecord, recordBumpTest, recordCalibration, startBumpTest };
}
