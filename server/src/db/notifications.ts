import type { NotificationStore } from '../alarms/dispatcher.js';
import type { NotifiedMilestones } from '../alarms/response.js';
import type { NotificationPatch } from '../notify/record.js';

import type { Db } from './database.js';
import type { Page } from './page.js';
import type { NotificationsTable } from './schema.js';

/**
 * Notification records (migrations/0012-notifications.ts): written by the chain as each message
 * is queued, sent, delivered, answered or fails; read by the response card, by the callbacks
 * (a receipt names the provider's id, an SMS reply only the number it came from) and by the
 * reports. Routes never write SQL: they call these.
 */

/** The cursor of a list of one alarm's notifications: queued time and id of the last one shown. */
export const NOTIFICATION_CURSOR = /^(\d{1,16})_(.{1,300})$/;

/** Stores new notifications; one whose id is stored already is left as it is (a replay, a restart). */
export async function insertNotifications(db: Db, rows: readonly NotificationsTable[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 200)
    await db
      .insertInto('notifications')
      .values(rows.slice(i, i + 200))
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
}

/**
 * Writes the rows as they are: new ones inserted, stored ones overwritten with what can change
 * (the chain's own write-behind of the records it keeps in memory while it sends).
 */
export async function saveNotifications(db: Db, rows: readonly NotificationsTable[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 200)
    await db
      .insertInto('notifications')
      .values(rows.slice(i, i + 200))
      .onConflict((oc) =>
        oc.column('id').doUpdateSet((eb) => ({
          text: eb.ref('excluded.text'),
          sent_at: eb.ref('excluded.sent_at'),
          delivered_at: eb.ref('excluded.delivered_at'),
          answered_at: eb.ref('excluded.answered_at'),
          failed_at: eb.ref('excluded.failed_at'),
          provider_id: eb.ref('excluded.provider_id'),
          outcome: eb.ref('excluded.outcome'),
          detail: eb.ref('excluded.detail'),
          reply: eb.ref('excluded.reply'),
        })),
      )
      .execute();
}

export async function updateNotifications(
  db: Db,
  ids: readonly string[],
  patch: NotificationPatch,
): Promise<void> {
  if (ids.length === 0 || Object.keys(patch).length === 0) return;
  for (let i = 0; i < ids.length; i += 500)
    await db
      .updateTable('notifications')
      .set(patch)
      .where('id', 'in', ids.slice(i, i + 500))
      .execute();
}

export async function getNotification(db: Db, id: string): Promise<NotificationsTable | undefined> {
  return db.selectFrom('notifications').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The notifications a provider's id names on a channel (several: a grouped message). */
export async function notificationsByProvider(
  db: Db,
  channel: string,
  providerId: string,
): Promise<NotificationsTable[]> {
  return db
    .selectFrom('notifications')
    .selectAll()
    .where('channel', '=', channel)
    .where('provider_id', '=', providerId)
    .orderBy('id')
    .execute();
}

/** The rows of a grouped message, one per alarm. */
export async function notificationsOfBatch(db: Db, batch: string): Promise<NotificationsTable[]> {
  return db.selectFrom('notifications').selectAll().where('batch', '=', batch).orderBy('id').execute();
}

/**
 * The latest notifications sent to an address since `since` (ms), newest first, at most `limit`:
 * what an SMS reply from that number answers.
 */
export async function notificationsTo(
  db: Db,
  address: string,
  since: number,
  limit = 50,
): Promise<NotificationsTable[]> {
  return db
    .selectFrom('notifications')
    .selectAll()
    .where('address', '=', address)
    .where('queued_at', '>=', since)
    .orderBy('queued_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

/**
 * One alarm's notifications in the order they were queued, a page after `cursor`
 * (`<queued_at>_<id>` of the last one shown), with how many there are in all.
 */
export async function notificationsOfAlarm(
  db: Db,
  alarmId: string,
  q: { limit: number; cursor?: string | undefined },
): Promise<Page<NotificationsTable>> {
  const base = db.selectFrom('notifications').where('alarm_id', '=', alarmId);
  const { total } = (await base
    .select((eb) => eb.fn.countAll<number>().as('total'))
    .executeTakeFirstOrThrow()) as { total: number | string };
  let page = base
    .selectAll()
    .orderBy('queued_at')
    .orderBy('id')
    .limit(q.limit + 1);
  const m = q.cursor === undefined ? null : NOTIFICATION_CURSOR.exec(q.cursor);
  if (m !== null) {
    const at = Number(m[1]);
    const id = m[2] ?? '';
    page = page.where((eb) =>
      eb.or([eb('queued_at', '>', at), eb.and([eb('queued_at', '=', at), eb('id', '>', id)])]),
    );
  }
  const rows = await page.execute();
  const shown = rows.slice(0, q.limit);
  const last = shown.at(-1);
  return {
    rows: shown,
    total: Number(total),
    nextCursor: rows.length > q.limit && last !== undefined ? `${Number(last.queued_at)}_${last.id}` : null,
  };
}

/** The latest `limit` notifications of an alarm, oldest of them first (the response card's panel). */
export async function latestNotificationsOfAlarm(
  db: Db,
  alarmId: string,
  limit: number,
): Promise<{ rows: NotificationsTable[]; total: number }> {
  const base = db.selectFrom('notifications').where('alarm_id', '=', alarmId);
  const { total } = (await base
    .select((eb) => eb.fn.countAll<number>().as('total'))
    .executeTakeFirstOrThrow()) as { total: number | string };
  const rows = await base
    .selectAll()
    .orderBy('queued_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return { rows: rows.reverse(), total: Number(total) };
}

/** Alarms per query of the milestones: well under SQLite's and PostgreSQL's limits on parameters. */
const MILESTONE_CHUNK = 500;

const ms = (v: number | string | null | undefined): number | null =>
  v === null || v === undefined ? null : Number(v);

/**
 * What the records say of each alarm's response (reports/milestones.ts): its first message to a
 * person sent and delivered (a receipt, a call picked up or a reply: whichever came first), and the
 * message whose answer acknowledged it (the earliest answered of those whose outcome is
 * `acknowledged`). Webhooks are left out: they tell a system, not a person. Alarms without records
 * are absent from the map. Two grouped queries per 500 alarms, on the alarm_id index.
 */
export async function notifiedMilestones(
  db: Db,
  alarmIds: readonly string[],
): Promise<Map<string, NotifiedMilestones>> {
  const out = new Map<string, NotifiedMilestones>();
  const ids = [...new Set(alarmIds)];
  for (let i = 0; i < ids.length; i += MILESTONE_CHUNK) {
    const chunk = ids.slice(i, i + MILESTONE_CHUNK);
    const firsts = await db
      .selectFrom('notifications')
      .select((eb) => [
        'alarm_id',
        eb.fn.min('sent_at').as('sent'),
        eb.fn.min('delivered_at').as('delivered'),
        eb.fn.min('answered_at').as('answered'),
      ])
      .where('alarm_id', 'in', chunk)
      .where('medium', '<>', 'webhook')
      .groupBy('alarm_id')
      .execute();
    for (const f of firsts) {
      const reached = [ms(f.delivered), ms(f.answered)].filter((t): t is number => t !== null);
      out.set(f.alarm_id, {
        firstSentAt: ms(f.sent),
        firstDeliveredAt: reached.length === 0 ? null : Math.min(...reached),
        ackReply: null,
      });
    }
    const answers = await db
      .selectFrom('notifications')
      .select(['alarm_id', 'step', 'answered_at', 'id'])
      .where('alarm_id', 'in', chunk)
      .where('outcome', '=', 'acknowledged')
      .orderBy('id')
      .execute();
    for (const r of answers) {
      const t = ms(r.answered_at);
      const m = out.get(r.alarm_id);
      if (t === null || m === undefined) continue;
      // The first answer acknowledged it; later "1"s to other messages found it acknowledged.
      if (m.ackReply === null || t < m.ackReply.at) m.ackReply = { step: Number(r.step), at: t };
    }
  }
  return out;
}

/** The chain's store of records over this database. */
export function sqlNotificationStore(db: Db): NotificationStore {
  return {
    save: (rows) => saveNotifications(db, rows),
    update: (ids, patch) => updateNotifications(db, ids, patch),
    byProvider: (channel, providerId) => notificationsByProvider(db, channel, providerId),
    sentTo: (address, since) => notificationsTo(db, address, since),
  };
}
