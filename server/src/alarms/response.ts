import { z } from 'zod';
import type { Alarm } from './model.js';

/**
 * One alarm's response, milestone by milestone (SPEC §12, issue 15): raised → first notification
 * sent → first delivered → acknowledged → on site → resolved. The alarm holds its own milestones
 * (detectedAt, ack, onSite, resolution); the notification records hold the rest
 * (db/notifications.ts notifiedMilestones). The same definitions serve the alarm's card, the
 * weekly report (GET /api/reports/response-times/weekly, reports/milestones.ts) and the weekly
 * ledger.
 */

/** What an alarm's notification records say of its response (db/notifications.ts reads them). */
export interface NotifiedMilestones {
  /** The earliest `sent_at` of a message to a person (webhooks are messages to systems: not counted). */
  firstSentAt: number | null;
  /**
   * The earliest proof that a message reached a person: a delivery receipt, a call picked up, a
   * reply (`delivered_at`, else `answered_at`, whichever came first over all its messages).
   */
  firstDeliveredAt: number | null;
  /** The message whose answer (SMS "1", key 1) acknowledged the alarm: its step and when it came. */
  ackReply: { step: number; at: number } | null;
}

export const NO_NOTIFICATIONS: NotifiedMilestones = {
  firstSentAt: null,
  firstDeliveredAt: null,
  ackReply: null,
};

/** The intervals measured, each from the raise to one milestone, in the chain's order. */
export const INTERVALS = ['sent', 'delivered', 'acknowledge', 'onSite', 'resolve'] as const;
export type Interval = (typeof INTERVALS)[number];

const at = (what: string) =>
  z.number().nullable().describe(`${what}; wall clock, ms since epoch; null: not yet`);
const seconds = (what: string) =>
  z.number().nullable().describe(`Seconds from the raise to ${what}; null while it has not happened`);

export const ResponseMilestonesSchema = z
  .object({
    raisedAt: z
      .number()
      .describe('When the server raised the alarm (detectedAt), wall clock, ms since epoch'),
    firstSentAt: at(
      'The first notification to a person the provider took (SMS, call, e-mail, chat; not webhooks)',
    ),
    firstDeliveredAt: at(
      'The first delivery receipt, call picked up or reply of any of its notifications, whichever came first',
    ),
    acknowledgedAt: at('The acknowledgement (in the console, by API, or by a reply)'),
    ackStep: z
      .number()
      .int()
      .nullable()
      .describe(
        'The step of the chain that acknowledged: acknowledged by a reply (SMS "1", key 1), the step of the message answered; else the highest step notified before the acknowledgement (0: acknowledged before anyone was notified); null while not acknowledged',
      ),
    ackBy: z
      .enum(['reply', 'operator'])
      .nullable()
      .describe(
        'reply: a contact answered a notification; operator: someone acknowledged in the console or by API (or resolved it)',
      ),
    onSiteAt: at('The first "on site"'),
    resolvedAt: at('The resolution'),
    seconds: z
      .object({
        sent: seconds('the first notification sent'),
        delivered: seconds('the first notification delivered'),
        acknowledge: seconds('the acknowledgement'),
        onSite: seconds('"on site"'),
        resolve: seconds('the resolution'),
      })
      .describe('Each milestone as seconds after the raise (never negative: a clock stepped back is 0)'),
  })
  .describe("The alarm's response: each milestone and its time after the raise");
export type ResponseMilestones = z.infer<typeof ResponseMilestonesSchema>;

/** The end of each interval: the milestone it runs to. */
const END: Record<Interval, keyof ResponseMilestones> = {
  sent: 'firstSentAt',
  delivered: 'firstDeliveredAt',
  acknowledge: 'acknowledgedAt',
  onSite: 'onSiteAt',
  resolve: 'resolvedAt',
};

export const endOf = (m: ResponseMilestones, i: Interval): number | null => m[END[i]] as number | null;

/**
 * The milestones of `a` with what its notifications say. The step of a console acknowledgement is
 * `a.tier`, the highest step notified: escalation stops at the acknowledgement, so it stays what
 * it was then (a re-raise, which restarts the chain, happens only to an unacknowledged alarm).
 */
export function responseMilestones(
  a: Readonly<Alarm>,
  n: NotifiedMilestones = NO_NOTIFICATIONS,
): ResponseMilestones {
  const ackAt = a.ack?.at ?? null;
  const byReply = ackAt !== null && n.ackReply !== null;
  const m = {
    raisedAt: a.detectedAt,
    firstSentAt: n.firstSentAt,
    firstDeliveredAt: n.firstDeliveredAt,
    acknowledgedAt: ackAt,
    ackStep: ackAt === null ? null : byReply ? (n.ackReply?.step ?? null) : a.tier,
    ackBy: ackAt === null ? null : byReply ? ('reply' as const) : ('operator' as const),
    onSiteAt: a.onSite?.at ?? null,
    resolvedAt: a.resolution?.at ?? null,
  };
  // Never negative: a provider's receipt time or a wall clock stepped back is not a faster answer.
  const since = (t: number | null) => (t === null ? null : Math.max(0, t - a.detectedAt) / 1000);
  return {
    ...m,
    seconds: {
      sent: since(m.firstSentAt),
      delivered: since(m.firstDeliveredAt),
      acknowledge: since(m.acknowledgedAt),
      onSite: since(m.onSiteAt),
      resolve: since(m.resolvedAt),
    },
  };
}
