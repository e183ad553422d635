/** Slots per page: 4 096 (a page of 7 doubles a slot is 229 KB). */
const PAGE_BITS = 12;
const PAGE = 1 << PAGE_BITS;

/**
 * A fixed number of doubles per slot (a device's times, say), in pages of 4 096 slots: 8 bytes a
 * number, where a number in an object's field that is not a small integer (a time in ms never is)
 * is a pointer to a 16-byte box (issue 18). It grows a page at a time: no copy of the whole table
 * and no spare half, as a doubling array has (at a million devices, ~60 MB copied, 120 MB held for
 * the moment). Slots are never freed.
 */
export class SlotTable {
  private readonly pages: Float64Array[] = [];
  private slots = 0;

  /** `initial`: each field's value in a new slot (its length is the number of fields). */
  constructor(private readonly initial: readonly number[]) {}

  /** Slots taken. */
  get size(): number {
    return this.slots;
  }

  /** A new slot, its fields at their initial values. */
  add(): number {
    const slot = this.slots++;
    const width = this.initial.length;
    if (slot >> PAGE_BITS === this.pages.length) this.pages.push(new Float64Array(PAGE * width));
    (this.pages[slot >> PAGE_BITS] as Float64Array).set(this.initial, (slot & (PAGE - 1)) * width);
    return slot;
  }

  get(slot: number, field: number): number {
    return (this.pages[slot >> PAGE_BITS] as Float64Array)[
      (slot & (PAGE - 1)) * this.initial.length + field
    ] as number;
  }

  set(slot: number, field: number, value: number): void {
    (this.pages[slot >> PAGE_BITS] as Float64Array)[(slot & (PAGE - 1)) * this.initial.length + field] =
      value;
  }
}
