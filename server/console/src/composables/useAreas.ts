import { computed, ref } from 'vue';
import { api } from '../api/client';
import type { Area } from '../api/types';
import { useSession } from './useSession';

/** An area's name in a native select, indented by its depth in the tree (no markup in an option). */
export const indent = (depth: number): string => '\u00a0\u00a0\u00a0'.repeat(depth);

/** Pages of /api/areas read at most: a county has hundreds of villages, not tens of thousands. */
const MAX_PAGES = 10;

const areas = ref<Area[]>([]);
let loading: Promise<void> | null = null;
/** Whose areas these are: another login sees others. */
let loadedFor: string | null = null;

/**
 * The areas this login sees (GET /api/areas, the server's own scope), for the area filter and to
 * name a device's area. Loaded once per login, again after a failure.
 */
export function useAreas() {
  const { who } = useSession();
  function load(): Promise<void> {
    const user = who.value?.user.username ?? null;
    if (user !== loadedFor) {
      loadedFor = user;
      loading = null;
      areas.value = [];
    }
    loading ??= (async () => {
      const all: Area[] = [];
      let cursor: string | undefined;
      for (let i = 0; i < MAX_PAGES; i++) {
        const page = await api.areas(cursor);
        all.push(...page.areas);
        if (page.nextCursor === null) break;
        cursor = page.nextCursor;
      }
      areas.value = all;
    })().catch((err: unknown) => {
      loading = null;
      throw err;
    });
    return loading;
  }

  /** Id → area. */
  const byId = computed(() => new Map(areas.value.map((a) => [a.id, a])));
  /** Each area after its parent, with its depth: the tree as a list for a select. */
  const tree = computed(() => {
    const children = new Map<string | null, Area[]>();
    for (const a of areas.value) {
      // An area whose parent this login does not see is a root of its tree.
      const parent = a.parent !== null && byId.value.has(a.parent) ? a.parent : null;
      children.set(parent, [...(children.get(parent) ?? []), a]);
    }
    const out: { area: Area; depth: number }[] = [];
    const walk = (parent: string | null, depth: number) => {
      for (const a of (children.get(parent) ?? []).sort((x, y) => x.name.localeCompare(y.name, 'zh-CN'))) {
        out.push({ area: a, depth });
        if (depth < 8) walk(a.id, depth + 1);
      }
    };
    walk(null, 0);
    return out;
  });
  const nameOf = (id: string | null) => (id === null ? null : (byId.value.get(id)?.name ?? id));
  return { areas, load, tree, nameOf };
}
