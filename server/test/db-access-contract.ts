import { describe, expect, it } from 'vitest';
import { appendAudit, listAudit } from '../src/db/audit.js';
import type { Db } from '../src/db/database.js';
import { createSession, findLiveSession, pruneSessions, revokeSession } from '../src/db/sessions.js';
import {
  confirmShift,
  FIRST_SHIFT_MS,
  findShift,
  insertShift,
  lastShift,
  listShifts,
  shiftStart,
  shiftsOverlapping,
} from '../src/db/shifts.js';
import { findLiveToken, insertToken, revokeToken, TokenNotFoundError } from '../src/db/tokens.js';
import { findUser, insertUser, revokeSessionsOf, UserExistsError, updateUser } from '../src/db/users.js';
import { shiftReport } from '../src/reports/shift-report.js';
import { toShift } from '../src/reports/shift-schema.js';
import { alarmOf } from './alarm-fixtures.js';
import { type DbTarget, migratedDatabases } from './db-contract.js';

const T0 = Date.UTC(2026, 11, 1, 8, 0, 0);
const HOUR = 3_600_000;

/**
 * The access records (migration 0002-access) on one database: the same suite runs on SQLite and
 * on a real PostgreSQL (db-sqlite.test.ts, db-postgres.test.ts).
 */
export function accessContract(name: string, target: () => DbTarget): void {
  describe(`access records contract: ${name}`, () => {
    const migrated = migratedDatabases(target);
    const fresh = async (): Promise<Db> => {
      const db = await migrated();
      await db
        .insertInto('areas')
        .values({ id: 'tw-a', parent: null, name: '城关镇', kind: 'township', created_at: T0 })
        .execute();
      return db;
    };

    const user = (username: string, over: Partial<Parameters<typeof insertUser>[1]> = {}) => ({
      username,
      displayName: '林 (值班)',
      role: 'operator' as const,
      area: 'tw-a',
      passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$x$y',
      now: T0,
      ...over,
    });

    it('keeps users by name, refuses a second of the same name and an area that does not exist', async () => {
      const db = await fresh();
      await insertUser(db, user('lin'));
      expect(await findUser(db, 'lin')).toMatchObject({
        username: 'lin',
        display_name: '林 (值班)',
        role: 'operator',
        area: 'tw-a',
        disabled_at: null,
      });
      await expect(insertUser(db, user('lin'))).rejects.toBeInstanceOf(UserExistsError);
      await expect(insertUser(db, user('wang', { area: 'nowhere' }))).rejects.toThrow(/foreign key/i);
      const changed = await updateUser(db, 'lin', { role: 'supervisor', area: null }, T0 + HOUR);
      expect(changed).toMatchObject({
        role: 'supervisor',
        area: null,
        updated_at: T0 + HOUR,
        created_at: T0,
      });
    });

    it('opens a session by its secret only while it is neither expired, revoked nor of a disabled user', async () => {
      const db = await fresh();
      await insertUser(db, user('lin'));
      const s = await createSession(db, {
        username: 'lin',
        now: T0,
        ttlMs: 12 * HOUR,
        address: '::1',
        userAgent: 'x',
      });
      expect(await findLiveSession(db, s.secret, T0 + HOUR)).toMatchObject({
        username: 'lin',
        csrf: s.csrf,
        role: 'operator',
      });
      // The table holds the secret's hash, never the secret.
      const row = await db.selectFrom('sessions').selectAll().executeTakeFirstOrThrow();
      expect(row.id).not.toBe(s.secret);
      expect(JSON.stringify(row)).not.toContain(s.secret);
      expect(await findLiveSession(db, s.secret, T0 + 12 * HOUR)).toBeUndefined();
      expect(await findLiveSession(db, `${s.secret}x`, T0)).toBeUndefined();

      const s2 = await createSession(db, {
        username: 'lin',
        now: T0,
        ttlMs: 12 * HOUR,
        address: null,
        userAgent: null,
      });
      await updateUser(db, 'lin', { disabled_at: T0 }, T0);
      expect(await findLiveSession(db, s2.secret, T0 + 1)).toBeUndefined();
      await updateUser(db, 'lin', { disabled_at: null }, T0);
      expect(await findLiveSession(db, s2.secret, T0 + 1)).toBeDefined();
      await revokeSession(db, s2.id, T0 + 2);
      expect(await findLiveSession(db, s2.secret, T0 + 3)).toBeUndefined();

      const s3 = await createSession(db, {
        username: 'lin',
        now: T0,
        ttlMs: 12 * HOUR,
        address: null,
        userAgent: null,
      });
      await revokeSessionsOf(db, 'lin', T0 + 4);
      expect(await findLiveSession(db, s3.secret, T0 + 5)).toBeUndefined();
    });

    it('prunes sessions ended long ago and keeps the others', async () => {
      const db = await fresh();
      await insertUser(db, user('lin'));
      const old = await createSession(db, {
        username: 'lin',
        now: T0,
        ttlMs: HOUR,
        address: null,
        userAgent: null,
      });
      const live = await createSession(db, {
        username: 'lin',
        now: T0 + 40 * 24 * HOUR,
        ttlMs: HOUR,
        address: null,
        userAgent: null,
      });
      expect(await pruneSessions(db, T0 + 40 * 24 * HOUR, 30 * 24 * HOUR)).toBe(1);
      const left = await db.selectFrom('sessions').select('id').execute();
      expect(left.map((r) => r.id)).toEqual([live.id]);
      expect(left.map((r) => r.id)).not.toContain(old.id);
    });

    it('finds a token by its whole secret until it expires or is revoked', async () => {
      const db = await fresh();
      const forever = await insertToken(db, {
        name: 'prometheus',
        role: 'viewer',
        area: null,
        createdBy: 'lin',
        now: T0,
        expiresAt: null,
      });
      const brief = await insertToken(db, {
        name: 'trial',
        role: 'admin',
        area: 'tw-a',
        createdBy: 'lin',
        now: T0,
        expiresAt: T0 + HOUR,
      });
      expect(forever.secret).toMatch(new RegExp(`^gwt_${forever.row.id}_`));
      expect(await findLiveToken(db, forever.secret, T0 + 1000 * HOUR)).toMatchObject({
        id: forever.row.id,
        role: 'viewer',
      });
      expect(await findLiveToken(db, brief.secret, T0 + HOUR - 1)).toMatchObject({ area: 'tw-a' });
      expect(await findLiveToken(db, brief.secret, T0 + HOUR)).toBeUndefined();
      expect(await findLiveToken(db, forever.secret.slice(0, -1), T0)).toBeUndefined();
      await revokeToken(db, forever.row.id, T0 + 1);
      expect(await findLiveToken(db, forever.secret, T0 + 2)).toBeUndefined();
      await expect(revokeToken(db, forever.row.id, T0 + 3)).rejects.toBeInstanceOf(TokenNotFoundError);
    });

    it('lists the audit log newest first, page by page, filtered, with its total, JSON as given', async () => {
      const db = await fresh();
      for (let i = 0; i < 5; i++)
        await appendAudit(db, {
          ts: T0 + i * 1000,
          actor: i % 2 === 0 ? 'lin' : 'cli',
          actorKind: i % 2 === 0 ? 'user' : 'cli',
          action: 'user.change',
          target: { kind: 'user', id: `u${i}` },
          before: { displayName: '王 "老" 五\u0000' },
          after: { displayName: `第${i}号` },
          address: '2001:db8::1',
        });
      const first = await listAudit(db, { limit: 2 });
      expect(first.total).toBe(5);
      expect(first.entries.map((e) => e.target.id)).toEqual(['u4', 'u3']);
      const second = await listAudit(db, { limit: 2, cursor: first.nextCursor ?? '' });
      expect(second.entries.map((e) => e.target.id)).toEqual(['u2', 'u1']);
      const last = await listAudit(db, { limit: 2, cursor: second.nextCursor ?? '' });
      expect([last.entries.map((e) => e.target.id), last.nextCursor]).toEqual([['u0'], null]);
      expect(first.entries[0]).toMatchObject({
        ts: new Date(T0 + 4000).toISOString(),
        actor: 'lin',
        actorKind: 'user',
        before: { displayName: '王 "老" 五\u0000' },
        after: { displayName: '第4号' },
        address: '2001:db8::1',
      });
      const byCli = await listAudit(db, { limit: 10, actor: 'cli' });
      expect([byCli.total, byCli.entries.map((e) => e.target.id)]).toEqual([2, ['u3', 'u1']]);
      expect((await listAudit(db, { limit: 10, targetKind: 'user', targetId: 'u2' })).entries).toHaveLength(
        1,
      );
    });

    it('keeps shift handovers per area: each starts at its area’s last, confirmed once, listed newest first', async () => {
      const db = await fresh();
      await db
        .insertInto('areas')
        .values({ id: 'v-a1', parent: 'tw-a', name: '东村', kind: 'village', created_at: T0 })
        .execute();
      // No handover yet: the first shift of an area began 12 h before now.
      expect(shiftStart(await lastShift(db, 'tw-a'), T0)).toBe(T0 - FIRST_SHIFT_MS);
      const alarm = alarmOf('kitchen.CO-dose.1', {
        detectedAt: T0 - HOUR,
        state: 'acknowledged',
        ack: { actor: 'lin', at: T0 - HOUR + 90_000, note: '已开窗 "通风"\u0000' },
      });
      const report = shiftReport([alarm], T0 - 8 * HOUR, T0);
      const day = await insertShift(db, {
        area: 'tw-a',
        startedAt: T0 - 8 * HOUR,
        endedAt: T0,
        handedOverBy: 'lin',
        note: '3号楼王奶奶家明早回访',
        report,
      });
      const everyArea = await insertShift(db, {
        area: null,
        startedAt: T0 - 12 * HOUR,
        endedAt: T0 + HOUR,
        handedOverBy: 'county-duty',
        note: '',
        report: shiftReport([], T0 - 12 * HOUR, T0 + HOUR),
      });
      const village = await insertShift(db, {
        area: 'v-a1',
        startedAt: T0,
        endedAt: T0 + 2 * HOUR,
        handedOverBy: 'zhao',
        note: '',
        report: shiftReport([], T0, T0 + 2 * HOUR),
      });
      // Each area's next shift starts at its own last handover, not at another area's.
      expect((await lastShift(db, 'tw-a'))?.id).toBe(day.id);
      expect((await lastShift(db, null))?.id).toBe(everyArea.id);
      expect(shiftStart(await lastShift(db, 'tw-a'), T0 + 8 * HOUR)).toBe(T0);
      // A handover stamped later than now (another instance's clock) does not start a shift in the future.
      expect(shiftStart(await lastShift(db, 'v-a1'), T0 + HOUR)).toBe(T0 + HOUR);

      // The report comes back as it was written, byte for byte.
      const back = toShift((await findShift(db, day.id)) ?? village);
      expect(back).toEqual({
        id: day.id,
        area: 'tw-a',
        startedAt: new Date(T0 - 8 * HOUR).toISOString(),
        endedAt: new Date(T0).toISOString(),
        handedOverBy: 'lin',
        note: '3号楼王奶奶家明早回访',
        report,
        confirmation: null,
      });
      expect(back.report.notes[0]?.text).toBe('已开窗 "通风"\u0000');
      expect(back.report.responseTimes.overall.acknowledge).toEqual({ count: 1, p50: 90, p90: 90 });

      const confirmed = await confirmShift(db, day.id, { by: 'wang', at: T0 + 60_000, note: '收到' });
      expect(toShift(confirmed ?? day).confirmation).toEqual({
        by: 'wang',
        at: new Date(T0 + 60_000).toISOString(),
        note: '收到',
      });
      // Once only: a second confirmation changes nothing.
      expect(await confirmShift(db, day.id, { by: 'zhao', at: T0 + 120_000, note: '' })).toBeUndefined();
      expect((await findShift(db, day.id))?.confirmed_by).toBe('wang');

      // Newest handover first, page by page; a township sees its own and its villages', not every area's.
      const first = await listShifts(db, { limit: 2, areas: null });
      expect([first.rows.map((r) => r.id), first.total]).toEqual([[village.id, everyArea.id], 3]);
      const rest = await listShifts(db, { limit: 2, areas: null, cursor: first.nextCursor ?? '' });
      expect([rest.rows.map((r) => r.id), rest.nextCursor]).toEqual([[day.id], null]);
      const township = await listShifts(db, { limit: 10, areas: ['tw-a', 'v-a1'] });
      expect([township.rows.map((r) => r.id), township.total]).toEqual([[village.id, day.id], 2]);
      expect((await listShifts(db, { limit: 10, areas: [] })).total).toBe(0);

      // Overlapping [from, to): a shift covers (started, ended]. The day shift ended at T0 exactly.
      const at = async (from: number, to: number, areas: string[] | null = null) =>
        (await shiftsOverlapping(db, { from, to, areas, limit: 10 })).shifts.map((s) => s.id);
      expect(await at(T0, T0 + 1)).toEqual([everyArea.id, day.id]);
      expect(await at(T0 + 1, T0 + HOUR)).toEqual([village.id, everyArea.id]);
      expect(await at(T0 - 20 * HOUR, T0 - 12 * HOUR + 1)).toEqual([]);
      expect(await at(T0 - 20 * HOUR, T0 - 12 * HOUR + 2)).toEqual([everyArea.id]);
      expect(await at(T0 - HOUR, T0 + 3 * HOUR, ['v-a1'])).toEqual([village.id]);
      const capped = await shiftsOverlapping(db, { from: 0, to: T0 * 2, areas: null, limit: 1 });
      expect([capped.shifts, capped.total]).toEqual([
        [{ id: village.id, area: 'v-a1', started_at: T0, ended_at: T0 + 2 * HOUR, handed_over_by: 'zhao' }],
        3,
      ]);
    });
  });
}
