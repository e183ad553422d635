/** Errors the alarm engine reports to callers; `statusCode` maps onto the HTTP answer. */
export class AlarmError extends Error {
  override readonly name = 'AlarmError';
  constructor(
    readonly code: 'alarm_not_found' | 'alarm_already_acknowledged' | 'unknown_actor' | 'alarms_loading',
    message: string,
    readonly statusCode: 400 | 404 | 409 | 503,
    readonly alarmId?: string,
  ) {
    super(message);
  }
}
