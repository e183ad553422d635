/**
 * The signed webhook's notification: the alarm as JSON for another system. A channel delivers one
 * or rejects with a NotifyError after its own retries; the chain never waits on it (notify/
 * dispatcher.ts sends in the background). People are reached through provider adapters instead
 * (provider.ts), with rendered messages.
 */

export interface NotificationContact {
  name: string;
  /** Address on the channel (phone number, e-mail), when the channel needs one. */
  to?: string;
}

/** What a contact is told about an alarm. */
export interface Notification {
  /**
   * Unique per delivery (stable across retries): alarm id, episode (from the second one on),
   * tier and contact index — `<alarm>.t1.c0`, then `<alarm>.e2.t1.c0` after a re-raise.
   */
  id: string;
  /**
   * 'raised' for a new alarm; 'reraised' when a latched, unacknowledged alarm's condition came
   * back (tier 1 again); 'escalated' when a later tier is reached; 'repeated' when the top step
   * is told again because nobody acknowledged.
   */
  reason: 'raised' | 'reraised' | 'escalated' | 'repeated';
  alarmId: string;
  /** Episode of the alarm's condition: 1 at the raise, +1 per re-raise. */
  episode: number;
  tier: number;
  tierName?: string;
  contact: NotificationContact;
  site: string | null;
  gw: string;
  dev: string;
  state: string;
  severity: 'warning' | 'critical';
  rule: string;
  key: string;
  gas?: string;
  value: number;
  threshold: number;
  unit?: string;
  message: string;
  /** Event time of the raise, ISO 8601. */
  raisedAt: string;
  late: boolean;
  /** Wall clock of this notification, ISO 8601. */
  sentAt: string;
  /** The alarm in one line, as a person reads it (the e-mail subject: place, room, gas, value). */
  text?: string;
}

export interface NotificationChannel {
  readonly name: string;
  readonly type: string;
  send(notification: Notification): Promise<void>;
  /** Aborts pending retries. */
  stop?(): Promise<void>;
}

export class NotifyError extends Error {
  override readonly name = 'NotifyError';
  constructor(
    readonly code: 'webhook_failed' | 'channel_stopped' | 'unknown_channel',
    message: string,
    readonly attempts: number,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
