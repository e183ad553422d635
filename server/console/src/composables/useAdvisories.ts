import { onScopeDispose, ref } from 'vue';
import { api } from '../api/client';
import type { Advisory } from '../api/types';
import { localDay } from '../format';

export { localDay };

/** Today's advisories at or above the banner grade that concern this login (one list per page). */
const current = ref<Advisory[]>([]);

async function load(): Promise<void> {
  try {
    current.value = (await api.currentAdvisories(localDay())).advisories;
  } catch {
    // A banner that cannot be loaded is not an outage: the next try shows it.
  }
}

/** The banner's advisories; `watch` (the shell) asks now and every 5 min while it lives. */
export function useAdvisories(opts: { watch?: boolean } = {}) {
  if (opts.watch) {
    void load();
    const timer = setInterval(() => void load(), 5 * 60_000);
    onScopeDispose(() => clearInterval(timer));
  }
  return { current, load };
}
