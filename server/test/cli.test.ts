import { startTsNode } from '@gaswatch/shared/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { SERVER_MAIN, startTestServer, tempDir } from './helpers.js';

/** `gaswatch-server <command>` (SPEC §9): the first admin and API tokens without a console. */
const tmp = tempDir('gw-cli-');
afterAll(() => tmp.remove());

async function cli(...args: string[]): Promise<{ code: number | null; output: string }> {
  const proc = startTsNode(SERVER_MAIN, args, { env: { DATA_DIR: tmp.dir, LOG_LEVEL: 'warn' } });
  const code = await proc.exited;
  return { code, output: proc.output() };
}

describe('gaswatch-server admin / token', () => {
  it('admin create prints a generated password once, and it logs in; a second create is refused', async () => {
    const made = await cli('admin', 'create', 'chen');
    expect(made.code).toBe(0);
    const password = /^password: (\S+)$/m.exec(made.output)?.[1] ?? '';
    expect(password).toMatch(/^\S{20,}$/);
    const again = await cli('admin', 'create', 'chen');
    expect(again.code).toBe(1);
    expect(again.output).toMatch(/a user named chen exists already/);

    const token = /^token: (\S+)$/m.exec(
      (await cli('token', 'create', 'prometheus', '--role', 'viewer')).output,
    )?.[1];
    expect(token).toMatch(/^gwt_tok_/);

    const server = await startTestServer({}, tmp.dir);
    try {
      const login = await fetch(`${server.url}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'chen', password }),
      });
      expect(login.status).toBe(200);
      expect(await login.json()).toMatchObject({ user: { username: 'chen', role: 'admin', area: null } });
      const metrics = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      expect(metrics.status).toBe(200);
      const audit = await fetch(`${server.url}/api/audit?actor=cli`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(audit.status).toBe(403); // a viewer token may not read it
    } finally {
      await server.app.close();
    }

    // A lost password: a new one, the old one no longer logs in.
    const reset = await cli('admin', 'password', 'chen');
    expect(reset.code).toBe(0);
    expect(/^password: (\S+)$/m.exec(reset.output)?.[1]).not.toBe(password);
  }, 90_000);

  it('wrong usage exits 2 with the usage line', async () => {
    const bad = await cli('admin', 'create');
    expect(bad.code).toBe(2);
    expect(bad.output).toMatch(/usage: gaswatch-server admin create NAME/);
    const unknown = await cli('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.output).toMatch(/unknown command "frobnicate"/);
    const role = await cli('token', 'create', 'x', '--role', 'boss');
    expect([role.code, role.output]).toEqual([
      2,
      expect.stringMatching(/--role must be viewer, operator, supervisor or admin/),
    ]);
  }, 60_000);
});
