// No DOM and no imports: the e2e tests (Node) read the same patterns the page plays.
/**
 * Two patterns a duty officer tells apart without looking: critical is a fast two-tone square
 * wave (1 000 / 1 500 Hz) every 2 s, a warning two soft 660 Hz beeps every 6 s.
 */
export const PATTERNS = {
  critical: {
    wave: 'square',
    periodMs: 2000,
    tones: [1000, 1500, 1000, 1500, 1000, 1500],
    toneS: 0.2,
    gapS: 0.03,
  },
  warning: { wave: 'sine', periodMs: 6000, tones: [660, 660], toneS: 0.18, gapS: 0.15 },
} as const satisfies Record<
  'critical' | 'warning',
  { wave: 'square' | 'sine'; periodMs: number; tones: readonly number[]; toneS: number; gapS: number }
>;
