import type { AreaKind } from '@gaswatch/shared';
import type { Db } from '../db/database.js';

/**
 * The area tree in memory (areas are few: a county has tens of townships, hundreds of villages),
 * for the scope check every list, read, change and live event makes. Reloaded after each change
 * made through this server, and every `refreshMs` for changes made through another instance.
 */
export class AreaTree {
  private parents = new Map<string, string | null>();
  private names = new Map<string, string>();
  private kinds = new Map<string, AreaKind>();

  constructor(private readonly db: Db) {}

  async reload(): Promise<void> {
    const rows = await this.db.selectFrom('areas').select(['id', 'parent', 'name', 'kind']).execute();
    this.parents = new Map(rows.map((r) => [r.id, r.parent]));
    this.names = new Map(rows.map((r) => [r.id, r.name]));
    this.kinds = new Map(rows.map((r) => [r.id, r.kind]));
  }

  /** The area above (null at the top), or undefined for an unknown id. */
  parentOf(id: string): string | null | undefined {
    return this.parents.get(id);
  }

  /** county, township, village or community; undefined for an unknown id. */
  kindOf(id: string): AreaKind | undefined {
    return this.kinds.get(id);
  }

  has(id: string): boolean {
    return this.parents.has(id);
  }

  /** The area's name as people write it (柳江村), or undefined for an unknown id. */
  nameOf(id: string): string | undefined {
    return this.names.get(id);
  }

  /**
   * True when `area` lies in the subtree of `scope` (itself included). A null scope is every
   * area; a null or unknown area is in no scope but that one — what is not placed is seen only by
   * those who see everything.
   */
  within(area: string | null, scope: string | null): boolean {
    if (scope === null) return true;
    // Bounded by the tree's size, so a cycle (parents are foreign keys, not checked acyclic) ends.
    for (let a = area, steps = 0; a != null && steps <= this.parents.size; steps++) {
      if (a === scope) return true;
      a = this.parents.get(a) ?? null;
    }
    return false;
  }

  /** Ids of `scope`'s subtree (every id for a null scope). */
  subtree(scope: string | null): string[] {
    return [...this.parents.keys()].filter((id) => this.within(id, scope));
  }
}
