import { afterEach, describe, expect, it } from 'vitest';
import { createDatabase, type Db, migrateToLatest } from '../src/db/database.js';
import {
  getNotification,
  insertNotifications,
  latestNotificationsOfAlarm,
  notificationsByProvider,
  notificationsOfAlarm,
  notificationsOfBatch,
  notificationsTo,
  notifiedMilestones,
  saveNotifications,
  updateNotifications,
} from '../src/db/notifications.js';
import type { NotificationsTable } from '../src/db/schema.js';
import { toRecord } from '../src/notify/record.js';
import type { DbTarget } from './db-contract.js';
import { quietLogger } from './helpers.js';

/** 2026-11-23 08:03 in Beijing. */
const T0 = Date.UTC(2026, 10, 23, 0, 3, 0);

const row = (over: Partial<NotificationsTable> & Pick<NotificationsTable, 'id'>): NotificationsTable => ({
  alarm_id: 'bedroom-co.CO-fast.mhx1',
  episode: 1,
  step: 1,
  contact: '王秀英',
  relation: 'occupant',
  address: '+8613800000001',
  channel: 'sms-aliyun',
  medium: 'sms',
  lang: 'zh-CN',
  attempt: 1,
  failover_of: null,
  fallback: '["call-aliyun"]',
  batch: null,
  text: '【燃气安全】柳江村3组12号（王秀英，独居老人）卧室一氧化碳 400ppm 报警，请立即开窗、撤离并回复1确认。',
  queued_at: T0,
  sent_at: null,
  delivered_at: null,
  answered_at: null,
  failed_at: null,
  provider_id: null,
  outcome: 'queued',
  detail: null,
  reply: null,
  ...over,
});

/**
 * Notification records (migration 0012-notifications) on one database: the same suite runs on
 * SQLite and a real PostgreSQL (db-sqlite.test.ts, db-postgres.test.ts), so times in bigint
 * columns, the card's order and cursor, and the look-ups a callback makes behave alike on both.
 */
export function notificationsContract(name: string, target: () => DbTarget): void {
  describe(`notification records contract: ${name}`, () => {
    const open: Db[] = [];
    const fresh = async (): Promise<Db> => {
      const { config } = await target().fresh();
      const db = createDatabase(config, quietLogger());
      open.push(db);
      await migrateToLatest(db);
      return db;
    };
    afterEach(async () => {
      for (const db of open.splice(0)) await db.destroy();
    });

    it('keeps what became of a notification: sent with the provider id, delivered, answered by "1", as numbers', async () => {
      const db = await fresh();
      await insertNotifications(db, [row({ id: 'a.t1.c0' })]);
      // Stored twice (a restart re-queues it): still one row, the first left as it was.
      await insertNotifications(db, [row({ id: 'a.t1.c0', text: 'again' })]);
      await updateNotifications(db, ['a.t1.c0'], {
        sent_at: T0 + 800,
        provider_id: 'biz-1',
        outcome: 'sent',
      });
      await updateNotifications(db, ['a.t1.c0'], { delivered_at: T0 + 6_000, outcome: 'delivered' });
      await updateNotifications(db, ['a.t1.c0'], {
        answered_at: T0 + 60_000,
        reply: '1',
        outcome: 'acknowledged',
      });
      const stored = await getNotification(db, 'a.t1.c0');
      expect(stored && toRecord(stored)).toMatchObject({
        id: 'a.t1.c0',
        contact: { name: '王秀英', relation: 'occupant', to: '+8613800000001' },
        text: expect.stringMatching(/^【燃气安全】/),
        queuedAt: T0,
        sentAt: T0 + 800,
        deliveredAt: T0 + 6_000,
        answeredAt: T0 + 60_000,
        failedAt: null,
        providerId: 'biz-1',
        outcome: 'acknowledged',
        reply: '1',
        attempt: 1,
      });
    });

    it("gives each alarm's first sent and delivered times and the step whose answer acknowledged it, as numbers", async () => {
      const db = await fresh();
      const a = 'a';
      await insertNotifications(db, [
        // Step 1: SMS sent at +1 s, delivered at +9 s; a call sent at +0.5 s, never delivered.
        row({
          id: 'a.t1.c0',
          alarm_id: a,
          sent_at: T0 + 1_000,
          delivered_at: T0 + 9_000,
          outcome: 'delivered',
        }),
        row({ id: 'a.t1.c1', alarm_id: a, medium: 'voice', sent_at: T0 + 500, outcome: 'sent' }),
        // Step 3: picked up at +7 s (before any receipt), answered "1" at +150 s.
        row({
          id: 'a.t3.c0',
          alarm_id: a,
          step: 3,
          sent_at: T0 + 2_000,
          answered_at: T0 + 7_000,
          outcome: 'answered',
        }),
        row({
          id: 'a.t3.c1',
          alarm_id: a,
          step: 3,
          sent_at: T0 + 2_000,
          answered_at: T0 + 150_000,
          outcome: 'acknowledged',
        }),
        // A webhook is a message to a system: earlier, and not counted.
        row({
          id: 'a.t1.c2',
          alarm_id: a,
          medium: 'webhook',
          sent_at: T0 + 100,
          delivered_at: T0 + 200,
          outcome: 'delivered',
        }),
        // Queued, never sent.
        row({ id: 'b.t1.c0', alarm_id: 'b' }),
        ...Array.from({ length: 600 }, (_, i) =>
          row({ id: `m${i}.t2.c0`, alarm_id: `m${i}`, step: 2, sent_at: T0 + i, outcome: 'sent' }),
        ),
      ]);
      const got = await notifiedMilestones(db, [
        'a',
        'b',
        'none',
        ...Array.from({ length: 600 }, (_, i) => `m${i}`),
      ]);
      expect(got.get('a')).toEqual({
        firstSentAt: T0 + 500,
        firstDeliveredAt: T0 + 7_000,
        ackReply: { step: 3, at: T0 + 150_000 },
      });
      expect(got.get('b')).toEqual({ firstSentAt: null, firstDeliveredAt: null, ackReply: null });
      expect(got.has('none')).toBe(false);
      // More alarms than one query takes.
      expect(got.get('m599')).toEqual({ firstSentAt: T0 + 599, firstDeliveredAt: null, ackReply: null });
      expect(got.size).toBe(602);
    });

    it('the chain\u2019s write-behind saves rows as they are: queued first, then sent, many in one statement', async () => {
      const db = await fresh();
      const rows = Array.from({ length: 450 }, (_, i) => row({ id: `s${i}.t1.c0`, alarm_id: `s${i}` }));
      await saveNotifications(db, rows);
      for (const r of rows)
        Object.assign(r, { sent_at: T0 + 500, provider_id: `biz-${r.alarm_id}`, outcome: 'sent' });
      await saveNotifications(db, rows);
      const stored = await getNotification(db, 's449.t1.c0');
      expect(stored && toRecord(stored)).toMatchObject({
        outcome: 'sent',
        sentAt: T0 + 500,
        providerId: 'biz-s449',
        queuedAt: T0,
      });
      expect((await notificationsByProvider(db, 'sms-aliyun', 'biz-s0')).map((r) => r.id)).toEqual([
        's0.t1.c0',
      ]);
    });

    it("lists an alarm's notifications in the order they were queued, paged by cursor, with the total", async () => {
      const db = await fresh();
      await insertNotifications(db, [
        row({ id: 'a.t2.c0', step: 2, queued_at: T0 + 120_000 }),
        row({ id: 'a.t1.c1', contact: '王建军', relation: 'family', queued_at: T0 }),
        row({ id: 'a.t1.c0', queued_at: T0 }),
        row({ id: 'a.t10.c0', step: 10, queued_at: T0 + 1_200_000 }),
        row({ id: 'other.t1.c0', alarm_id: 'other' }),
      ]);
      const first = await notificationsOfAlarm(db, 'bedroom-co.CO-fast.mhx1', { limit: 2 });
      expect([first.rows.map((r) => r.id), first.total]).toEqual([['a.t1.c0', 'a.t1.c1'], 4]);
      expect(first.nextCursor).toBe(`${T0}_a.t1.c1`);
      const second = await notificationsOfAlarm(db, 'bedroom-co.CO-fast.mhx1', {
        limit: 2,
        cursor: first.nextCursor ?? '',
      });
      expect([second.rows.map((r) => r.id), second.nextCursor]).toEqual([['a.t2.c0', 'a.t10.c0'], null]);
      const latest = await latestNotificationsOfAlarm(db, 'bedroom-co.CO-fast.mhx1', 3);
      expect([latest.rows.map((r) => r.id), latest.total]).toEqual([['a.t1.c1', 'a.t2.c0', 'a.t10.c0'], 4]);
    });

    it('finds what a receipt names (channel and provider id), a reply answers (the number, newest first) and a group holds', async () => {
      const db = await fresh();
      await insertNotifications(db, [
        row({ id: 'a.t1.c0', provider_id: 'biz-1', queued_at: T0 }),
        row({
          id: 'b.t1.c0',
          alarm_id: 'b',
          provider_id: 'biz-1',
          channel: 'sms-tencent',
          queued_at: T0 + 1,
        }),
        row({ id: 'c.t2.c0', alarm_id: 'c', provider_id: 'biz-9', batch: 'g1', queued_at: T0 + 2 }),
        row({ id: 'd.t2.c0', alarm_id: 'd', provider_id: 'biz-9', batch: 'g1', queued_at: T0 + 2 }),
        row({ id: 'e.t1.c0', alarm_id: 'e', address: '+8613800000002', queued_at: T0 + 3 }),
      ]);
      expect((await notificationsByProvider(db, 'sms-aliyun', 'biz-1')).map((r) => r.id)).toEqual([
        'a.t1.c0',
      ]);
      expect((await notificationsByProvider(db, 'sms-aliyun', 'biz-9')).map((r) => r.id)).toEqual([
        'c.t2.c0',
        'd.t2.c0',
      ]);
      expect((await notificationsOfBatch(db, 'g1')).map((r) => r.alarm_id)).toEqual(['c', 'd']);
      expect((await notificationsTo(db, '+8613800000001', T0 + 1)).map((r) => r.id)).toEqual([
        'd.t2.c0',
        'c.t2.c0',
        'b.t1.c0',
      ]);
    });
  });
}
