import type { PermitKind } from '@gaswatch/shared';

/**
 * The safety measures a permit form offers to tick, by kind (the 安全措施 of GB 30871-2022
 * annex A's forms, as a plant's permit lists them); their words are the locale's
 * `permits.form.measureSets`. Ticked ones go on the permit as text in the page's language, with
 * any the applicant adds.
 */
export const MEASURE_PRESETS = {
  confined_space: [
    'isolate',
    'drain',
    'ventilate',
    'power',
    'barrier',
    'respirator',
    'rescue',
    'lighting',
    'signals',
  ],
  hot_work: ['isolate', 'clean', 'drains', 'sparks', 'extinguisher', 'cylinders', 'watch'],
} as const satisfies Record<PermitKind, readonly string[]>;
