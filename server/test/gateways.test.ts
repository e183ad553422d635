import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Postgres, startPostgres } from '@gaswatch/shared/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../src/db/audit.js';
import { createDatabase, type Db, openDatabase } from '../src/db/database.js';
import { findGateway, isGatewayActive, verifyGateway } from '../src/db/gateways.js';
import { hashMosquittoPassword, verifyMosquittoPassword } from '../src/db/mosquitto-password.js';
import { type Actor, createGatewayService } from '../src/gateways/service.js';
import { quietLogger, tempDir } from './helpers.js';

const tmp = tempDir('gaswatch-gateways-');
let pg: Postgres | undefined;
afterAll(async () => {
  await pg?.stop();
  tmp.remove();
});

describe("Mosquitto's password_file form", () => {
  it('verifies what mosquitto_passwd writes, and writes the same form ($7$, 101 iterations, 12-byte salt, 64-byte digest)', async () => {
    const file = join(tmp.dir, 'mosquitto_passwd');
    const password = 'pässwörd with spaces:and$signs';
    execFileSync('mosquitto_passwd', ['-c', '-b', file, 'gw-1', password]);
    const theirs = readFileSync(file, 'utf8').trim().slice('gw-1:'.length);
    expect(await verifyMosquittoPassword(theirs, password)).toBe(true);
    expect(await verifyMosquittoPassword(theirs, `${password}x`)).toBe(false);

    const ours = await hashMosquittoPassword(password);
    const shape = /^\$7\$(\d+)\$([^$]+)\$([^$]+)$/;
    const [, iterations, salt, digest] = ours.match(shape) ?? [];
    const [, theirIterations] = theirs.match(shape) ?? [];
    expect(iterations).toBe(theirIterations);
    expect(Buffer.from(salt ?? '', 'base64')).toHaveLength(12);
    expect(Buffer.from(digest ?? '', 'base64')).toHaveLength(64);
    expect(await verifyMosquittoPassword(ours, password)).toBe(true);
    expect(await hashMosquittoPassword(password)).not.toBe(ours); // a new salt each time
  });

  it('a damaged or foreign hash matches nothing', async () => {
    for (const bad of [
      '',
      'secret',
      '$6$abc$def',
      '$7$0$AAAA$AAAA',
      `$7$99999999$${'A'.repeat(16)}$${'A'.repeat(88)}`,
    ])
      expect(await verifyMosquittoPassword(bad, 'secret')).toBe(false);
  });
});

const admin: Actor = { actor: 'lin', actorKind: 'user', address: '10.0.0.7' };

function serviceContract(name: string, open: () => Promise<Db>) {
  describe(`gateway service: ${name}`, () => {
    let db: Db;
    let now = Date.UTC(2026, 10, 23, 8, 0, 0);
    const clock = () => now;
    const changed: string[] = [];
    let svc: ReturnType<typeof createGatewayService>;
    beforeAll(async () => {
      db = await open();
      await db
        .insertInto('areas')
        .values({ id: 'liujiang', parent: null, name: '柳江', kind: 'county', created_at: now })
        .execute();
      svc = createGatewayService({ db, clock, onAccessChanged: (id) => changed.push(id) });
    });
    afterAll(async () => {
      await db?.destroy();
    });
    const audit = async (id: string) =>
      (await listAudit(db, { limit: 10, targetKind: 'gateway', targetId: id })).entries.reverse();

    it('provisions a gateway once, with a password shown once and stored as its $7$ hash, and an audit row', async () => {
      const { gateway, password } = await svc.provision({ id: 'gw-12', area: 'liujiang' }, admin);
      expect(password).toMatch(/^[A-Za-z0-9]{21}$/);
      expect(gateway).toEqual({
        id: 'gw-12',
        area: 'liujiang',
        createdBy: 'lin',
        createdAt: '2026-11-23T08:00:00.000Z',
        rotatedAt: null,
        revokedAt: null,
      });
      const row = await findGateway(db, 'gw-12');
      expect(row?.password_hash).toMatch(/^\$7\$101\$/);
      expect(row?.password_hash).not.toContain(password);
      expect(await verifyGateway(db, 'gw-12', password)).toBe(true);
      expect(await verifyGateway(db, 'gw-12', 'wrong')).toBe(false);
      expect(await verifyGateway(db, 'gw-99', password)).toBe(false);
      expect(await svc.get('gw-12')).toEqual(gateway);
      const [entry] = await audit('gw-12');
      expect(entry).toMatchObject({
        actor: 'lin',
        actorKind: 'user',
        action: 'gateway.provision',
        target: { kind: 'gateway', id: 'gw-12' },
        before: null,
        after: gateway,
        address: '10.0.0.7',
      });
      expect(JSON.stringify(entry)).not.toMatch(/\$7\$|password/);

      await expect(svc.provision({ id: 'gw-12' }, admin)).rejects.toMatchObject({
        code: 'gateway_exists',
        statusCode: 409,
      });
      expect(await audit('gw-12')).toHaveLength(1);
    });

    it('refuses an id that is not a gateway id, the reserved "time", and an unknown area', async () => {
      for (const id of ['GW-1', '-gw', 'gw/1', 'gw+', 'x'.repeat(65), '', 'time'])
        await expect(svc.provision({ id }, admin)).rejects.toMatchObject({
          code: 'invalid_gateway_id',
          statusCode: 400,
        });
      await expect(svc.provision({ id: 'gw-13', area: 'nowhere' }, admin)).rejects.toMatchObject({
        code: 'unknown_area',
        statusCode: 400,
      });
      await expect(svc.get('gw-13')).rejects.toMatchObject({ code: 'gateway_not_found', statusCode: 404 });
    });

    it('rotates: the old password stops working, the new one works, the broker is told', async () => {
      const first = await svc.provision({ id: 'gw-20' }, admin);
      now += 60_000;
      changed.length = 0;
      const second = await svc.rotate('gw-20', { actor: 'cli', actorKind: 'cli', address: null });
      expect(second.password).not.toBe(first.password);
      expect(second.gateway.rotatedAt).toBe(new Date(now).toISOString());
      expect(await verifyGateway(db, 'gw-20', first.password)).toBe(false);
      expect(await verifyGateway(db, 'gw-20', second.password)).toBe(true);
      expect(changed).toEqual(['gw-20']);
      expect((await audit('gw-20')).map((e) => [e.action, e.actor])).toEqual([
        ['gateway.provision', 'lin'],
        ['gateway.rotate', 'cli'],
      ]);
      await expect(svc.rotate('gw-404', admin)).rejects.toMatchObject({ code: 'gateway_not_found' });
    });

    it('revokes: no password nor certificate lets it in; a second revoke changes nothing; provisioning again gives new credentials', async () => {
      const { password } = await svc.provision({ id: 'gw-30' }, admin);
      now += 60_000;
      changed.length = 0;
      const revoked = await svc.revoke('gw-30', admin);
      expect(revoked.revokedAt).toBe(new Date(now).toISOString());
      expect(changed).toEqual(['gw-30']);
      expect(await verifyGateway(db, 'gw-30', password)).toBe(false);
      expect(await isGatewayActive(db, 'gw-30')).toBe(false);
      expect(await isGatewayActive(db, 'gw-12')).toBe(true);
      await expect(svc.rotate('gw-30', admin)).rejects.toMatchObject({
        code: 'gateway_revoked',
        statusCode: 409,
      });

      now += 60_000;
      expect(await svc.revoke('gw-30', admin)).toEqual(revoked);
      expect(changed).toEqual(['gw-30']);
      const audited = await audit('gw-30');
      expect(audited.map((e) => e.action)).toEqual(['gateway.provision', 'gateway.revoke']);
      expect(audited[1]).toMatchObject({
        before: { revokedAt: null },
        after: { revokedAt: revoked.revokedAt },
      });

      now += 60_000;
      const again = await svc.provision({ id: 'gw-30' }, admin);
      expect(again.gateway).toMatchObject({ revokedAt: null, rotatedAt: new Date(now).toISOString() });
      expect(await verifyGateway(db, 'gw-30', again.password)).toBe(true);
      expect(await verifyGateway(db, 'gw-30', password)).toBe(false);
      await expect(svc.revoke('gw-404', admin)).rejects.toMatchObject({ code: 'gateway_not_found' });
    });

    it('lists every gateway by id, revoked ones with their revocation time, never a hash', async () => {
      await svc.provision({ id: 'gw-40' }, admin);
      await svc.revoke('gw-40', admin);
      const list = await svc.list();
      expect(list.map((g) => g.id)).toEqual(['gw-12', 'gw-20', 'gw-30', 'gw-40']);
      expect(list.find((g) => g.id === 'gw-40')?.revokedAt).not.toBeNull();
      expect(JSON.stringify(list)).not.toContain('$7$');
    });

    it('two provisions of one id at the same moment: one gets it, the other gateway_exists', async () => {
      const results = await Promise.allSettled([
        svc.provision({ id: 'gw-50' }, admin),
        svc.provision({ id: 'gw-50' }, admin),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const failed = results.find((r) => r.status === 'rejected');
      expect((failed as PromiseRejectedResult).reason).toMatchObject({ code: 'gateway_exists' });
      expect((await audit('gw-50')).map((e) => e.action)).toEqual(['gateway.provision']);
    });
  });
}

serviceContract('SQLite', async () => {
  const { db } = await openDatabase({ kind: 'sqlite', file: join(tmp.dir, 'gaswatch.db') }, quietLogger());
  return db;
});

serviceContract('PostgreSQL', async () => {
  pg = await startPostgres();
  const admin = createDatabase({ kind: 'postgres', url: pg.url }, quietLogger());
  await sql`create database gateways_test`.execute(admin);
  await admin.destroy();
  const u = new URL(pg.url);
  u.pathname = '/gateways_test';
  const { db } = await openDatabase({ kind: 'postgres', url: u.toString() }, quietLogger());
  return db;
});
