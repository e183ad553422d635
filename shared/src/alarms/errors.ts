/** Why the alarm math refused an input; the state passed in is untouched (the functions are pure). */
export class AlarmInputError extends Error {
  override readonly name = 'AlarmInputError';
  constructor(
    /** 'invalid_sample' | 'out_of_order' | 'invalid_option' | 'unknown_profile' */
    readonly code: 'invalid_sample' | 'out_of_order' | 'invalid_option' | 'unknown_profile',
    message: string,
    /** Offending input, for logs. */
    readonly detail?: Record<string, unknown>,
  ) {
    super(message);
  }
}
