/**
 * How far a reading's own timestamp may stray from the server clock before ingest flags it. Ingest,
 * the device registry and the alarm engine all judge readings by these, so they live apart from
 * each of them.
 */

/** A reading sampled more than this long before it arrived is marked late (an outbox replay). */
export const LATE_AFTER_MS = 60_000;
/** A reading stamped more than this far ahead of the server clock is flagged clockSuspect (SPEC §6). */
export const CLOCK_SUSPECT_MS = 5 * 60_000;
