import { z } from 'zod';

/**
 * One message to one contact about one alarm (migrations/0012-notifications.ts, db/notifications.ts):
 * a grouped message of storm control has one row per alarm, sharing `batch` and `provider_id`.
 */
export interface NotificationRow {
  /** `<alarm>[.e<episode>].t<step>.c<contact>`, `.r<time>` for a repeat, `.a<n>` for a failover. */
  id: string;
  alarm_id: string;
  episode: number;
  step: number;
  /** The contact's name, relation (household contacts) and address (phone number, e-mail). */
  contact: string;
  relation: string | null;
  address: string | null;
  channel: string;
  /** sms | voice | email | chat | webhook. */
  medium: string;
  lang: string;
  /** 1, then +1 per failover to the contact's next channel. */
  attempt: number;
  /** The notification this one fell over from. */
  failover_of: string | null;
  /** JSON array: the contact's channels still to fall over to. */
  fallback: string;
  /** The grouped message this alarm went out in (storm control). */
  batch: string | null;
  /** What was sent (or read out). */
  text: string;
  queued_at: number;
  sent_at: number | null;
  delivered_at: number | null;
  /** A call picked up, or a reply received. */
  answered_at: number | null;
  failed_at: number | null;
  /** The provider's id of the message or call. */
  provider_id: string | null;
  /** NotificationOutcome (notify/record.ts). */
  outcome: string;
  /** Why it failed, what was cut, the provider's words. */
  detail: string | null;
  /** The reply or the key pressed. */
  reply: string | null;
}

/** What a notification's progress changes: its times, outcome, provider id, detail, reply. */
export type NotificationPatch = Partial<
  Pick<
    NotificationRow,
    | 'sent_at'
    | 'delivered_at'
    | 'answered_at'
    | 'failed_at'
    | 'provider_id'
    | 'outcome'
    | 'detail'
    | 'reply'
    | 'text'
    | 'channel'
  >
>;

/**
 * What became of a notification, as the response card and the API say it:
 * `queued` — handed to the channel, no answer yet; `sent` — the provider took it; `delivered` —
 * the provider reports it reached the phone; `answered` — the call was picked up; `replied` — an
 * answer came that was not "1"; `acknowledged` — the contact acknowledged the alarm with it (SMS
 * "1", key 1); `failed` — refused, undeliverable, or the call failed; `no_answer` / `busy` — a
 * call nobody picked up; `capped` — not sent: the contact had the most notifications an hour
 * allows (notify.maxPerContactHour); `skipped` — not sent: the contact has no address this
 * channel can use (a household contact has a phone, no e-mail).
 */
export const NOTIFICATION_OUTCOMES = [
  'queued',
  'sent',
  'delivered',
  'answered',
  'replied',
  'acknowledged',
  'failed',
  'no_answer',
  'busy',
  'capped',
  'skipped',
] as const;
export type NotificationOutcome = (typeof NOTIFICATION_OUTCOMES)[number];

/** Outcomes after which the contact's next channel is tried at once. */
export const FAILED_OUTCOMES: readonly NotificationOutcome[] = ['failed', 'no_answer', 'busy', 'skipped'];

/** Progress of a notification that did not fail: a later receipt never takes an outcome back. */
export const PROGRESS: Readonly<Partial<Record<NotificationOutcome, number>>> = {
  queued: 0,
  sent: 1,
  delivered: 2,
  answered: 3,
  replied: 4,
  acknowledged: 5,
};

const Time = z.number().nullable();

export const NotificationRecordSchema = z
  .object({
    id: z.string(),
    alarmId: z.string(),
    episode: z.number().int(),
    step: z.number().int().describe('Step of the chain (1: the first contacts)'),
    contact: z.object({
      name: z.string(),
      relation: z.string().optional().describe('occupant, family, neighbour, grid_worker, village_cadre'),
      to: z.string().optional().describe('Phone number or e-mail address'),
    }),
    channel: z.string().describe('The configured channel (GASWATCH_CONFIG channels.<name>)'),
    medium: z.enum(['sms', 'voice', 'email', 'chat', 'webhook']),
    lang: z.string(),
    attempt: z.number().int().describe('1, then +1 for each failover to the contact’s next channel'),
    failoverOf: z.string().nullable().describe('The notification this one fell over from'),
    batch: z.string().nullable().describe('The grouped message (storm control) this alarm went out in'),
    text: z.string().describe('What was sent or read out'),
    queuedAt: z.number(),
    sentAt: Time,
    deliveredAt: Time,
    answeredAt: Time.describe('Call picked up, or reply received'),
    failedAt: Time,
    providerId: z.string().nullable(),
    outcome: z.enum(NOTIFICATION_OUTCOMES),
    detail: z.string().nullable().describe('Why it failed; what was cut to fit the length rules'),
    reply: z.string().nullable().describe('The reply, or the key pressed'),
  })
  .describe('One notification: one message to one contact about one alarm');
export type NotificationRecord = z.infer<typeof NotificationRecordSchema>;

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

/** A row as the API answers it (PostgreSQL gives bigint columns back as text). */
export function toRecord(r: NotificationRow): NotificationRecord {
  return {
    id: r.id,
    alarmId: r.alarm_id,
    episode: Number(r.episode),
    step: Number(r.step),
    contact: {
      name: r.contact,
      ...(r.relation === null ? {} : { relation: r.relation }),
      ...(r.address === null ? {} : { to: r.address }),
    },
    channel: r.channel,
    medium: r.medium as NotificationRecord['medium'],
    lang: r.lang,
    attempt: Number(r.attempt),
    failoverOf: r.failover_of,
    batch: r.batch,
    text: r.text,
    queuedAt: Number(r.queued_at),
    sentAt: num(r.sent_at),
    deliveredAt: num(r.delivered_at),
    answeredAt: num(r.answered_at),
    failedAt: num(r.failed_at),
    providerId: r.provider_id,
    outcome: r.outcome as NotificationOutcome,
    detail: r.detail,
    reply: r.reply,
  };
}
