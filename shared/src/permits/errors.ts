/** Why a permit rule function refused its input; nothing was changed (the functions are pure). */
export class PermitRuleError extends Error {
  override readonly name = 'PermitRuleError';
  constructor(
    /**
     * invalid_reading: a reading in a unit its gas is not measured in, or not a number;
     * invalid_option: a time zone, time or gas the function cannot use;
     * invalid_transition: a permit state change that does not exist;
     * looser_than_standard: a site setting that loosens a number the standard fixes.
     */
    readonly code: 'invalid_reading' | 'invalid_option' | 'invalid_transition' | 'looser_than_standard',
    message: string,
    /** Offending input, for logs. */
    readonly detail?: Record<string, unknown>,
  ) {
    super(message);
  }
}
