import { ServerError } from '../errors.js';

/** Errors the alarm engine reports to callers; `statusCode` maps onto the HTTP answer. */
export class AlarmError extends ServerError {
  declare readonly code:
    | 'alarm_not_found'
    | 'alarm_already_acknowledged'
    | 'alarm_already_resolved'
    | 'alarms_loading';
  declare readonly statusCode: 404 | 409 | 503;
  constructor(
    code: AlarmError['code'],
    message: string,
    statusCode: AlarmError['statusCode'],
    readonly alarmId?: string,
  ) {
    // Every message here is the engine's own words, fit to answer as they are.
    super(code, message, { statusCode, publicMessage: message });
  }
}
