// The production build (scripts/build.mjs) runs on plain node, as the bin, the Dockerfile and the
// systemd unit run it: a dependency that does not survive bundling, a lost profile or a page the
// bundle cannot find fails here, not on a customer's host.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Proc, startProcess, waitFor } from '@gaswatch/shared/testing';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, login, publishReading, reading, tempDir } from './helpers.js';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = join(pkg, '..');
// Inside the package, so the external modules (classic-level, pino, swagger-ui) resolve from node_modules.
const out = join(pkg, `.test-build-${process.pid}`);
const main = join(out, 'src', 'main.js');
const tmp = tempDir('gaswatch-bundle-');
const procs: Proc[] = [];

/** The node flags of the systemd unit's ExecStart (the Dockerfile and npm start carry the same). */
function unitFlags(): string[] {
  const unit = readFileSync(join(root, 'docs', 'deploy', 'gaswatch-server.service'), 'utf8');
  const exec = unit.match(/^ExecStart=\/usr\/bin\/node (.*)\/opt\/gaswatch\/server\/dist\/src\/main\.js$/m);
  return (exec?.[1] ?? '').split(' ').filter(Boolean);
}

function runBundle(env: Record<string, string>): Proc {
  const p = startProcess(process.execPath, [...unitFlags(), main], {
    name: 'server-bundle',
    env: { LOG_LEVEL: 'info', PORT: '0', MQTT_PORT: '0', ...env },
  });
  procs.push(p);
  return p;
}

beforeAll(() => {
  execFileSync(process.execPath, [join(pkg, 'scripts', 'build.mjs'), out], { stdio: 'pipe' });
});
afterAll(async () => {
  for (const p of procs) await p.stop();
  rmSync(out, { recursive: true, force: true });
  tmp.remove();
});

describe('server production bundle', () => {
  it('is what the Dockerfile, the systemd unit and the bin run, with the same node flags', () => {
    const flags = unitFlags();
    // The heap setting of docs/server.md "Memory per device": lost, the RSS per device doubles.
    expect(flags).toContain('--heap-growing-percent=20');
    const docker = readFileSync(join(pkg, 'Dockerfile'), 'utf8').match(/^ENTRYPOINT (.*)$/m)?.[1];
    expect(JSON.parse(docker ?? '[]')).toEqual(['node', ...flags, 'server/dist/src/main.js']);
    const start = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).scripts.start as string;
    expect(start).toBe(['node', ...flags, 'bin/gaswatch-server.js'].join(' '));
    expect(readFileSync(join(pkg, 'bin', 'gaswatch-server.js'), 'utf8')).toContain("'../dist/src/main.js'");
  });

  it('rejects a bad configuration with every problem listed and exit status 2', async () => {
    const bad = join(tmp.dir, 'bad.yaml');
    writeFileSync(bad, 'sites: everywhere\n');
    const p = runBundle({ PORT: '-1', GASWATCH_CONFIG: bad, DATA_DIR: join(tmp.dir, 'bad') });
    expect(await p.exited).toBe(2);
    expect(p.output()).toMatch(/PORT:/);
    expect(p.output()).toMatch(/GASWATCH_CONFIG .*bad\.yaml sites/);
    expect(p.output()).not.toMatch(/ERR_MODULE_NOT_FOUND|Dynamic require/);
  });

  it('creates the first admin, who logs in; ingests a reading and serves the API, the OpenAPI document and the console app', async () => {
    const env = { DATA_DIR: join(tmp.dir, 'data') };
    // `gaswatch-server admin create` of the bundle: argon2's native binding survived bundling.
    const admin = startProcess(process.execPath, [main, 'admin', 'create', 'first-admin'], {
      name: 'bundle-admin-create',
      env: { ...env, LOG_LEVEL: 'warn' },
    });
    procs.push(admin);
    expect(await admin.exited).toBe(0);
    const password = /^password: (\S+)$/m.exec(admin.output())?.[1] ?? '';
    expect(password).toMatch(/^[A-Za-z0-9]{21}$/);

    // The gateway's login from the bundle's own CLI, as an installer makes it.
    const create = spawnSync(process.execPath, [main, 'gateway', 'create', 'gw-bundle'], {
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
      encoding: 'utf8',
    });
    expect(create.stderr).not.toMatch(/ERR_MODULE_NOT_FOUND|Dynamic require/);
    expect(create.status).toBe(0);
    const gwPassword = create.stdout.match(/^password: (\S+)$/m)?.[1];
    expect(gwPassword).toBeDefined();

    const p = runBundle(env);
    const m = await p.waitForOutput(/"url":"([^"]+)","mqtt":"([^"]+)"[^\n]*"msg":"listening"/, 30_000);
    const [url, mqttUrl] = [m[1] as string, m[2] as string];
    const session = await login(url, 'first-admin', password);
    expect(session.user).toEqual({
      username: 'first-admin',
      displayName: 'first-admin',
      role: 'admin',
      area: null,
    });
    const getJson = async <T = unknown>(u: string) => {
      const res = await session.fetch(u);
      return { status: res.status, body: (await res.json()) as T };
    };
    const gw = await connectClient(mqttUrl, {
      clientId: 'gw-bundle',
      username: 'gw-bundle',
      password: gwPassword,
    });
    try {
      await publishReading(gw, 'gw-bundle', 'co-1', reading(1, Date.now(), { CO: 42 }));
      await waitFor(
        async () =>
          (await getJson<{ devices: { id: string }[] }>(`${url}/api/devices`)).body.devices.length === 1,
        'the reading in /api/devices',
      );
      const device = await getJson<{ lastReading: { values: { CO: number } } }>(`${url}/api/devices/co-1`);
      expect(device.body.lastReading.values).toEqual({ CO: 42 });
      expect((await getJson(`${url}/readyz`)).status).toBe(200);
      const doc = await getJson<{ paths: Record<string, unknown> }>(`${url}/docs/json`);
      expect(Object.keys(doc.body.paths)).toContain('/api/alarms/{id}/ack');
      expect((await fetch(`${url}/docs/static/index.html`)).status).toBe(200);
      // exceljs, loaded by the first export (its own chunk), survived bundling: a workbook comes back.
      const xlsx = await session.fetch(`${url}/api/alarms/export?format=xlsx`);
      const file = Buffer.from(await xlsx.arrayBuffer());
      expect(xlsx.status, file.toString()).toBe(200);
      const book = new ExcelJS.Workbook();
      await book.xlsx.load(file as unknown as ArrayBuffer);
      expect(book.worksheets.map((w) => w.name)).toEqual(['报警记录', '导出说明']);
      // pdfkit (external) and its CJK font: the weekly ledger of a township as a PDF.
      const change = (path: string, body: unknown) =>
        session.fetch(`${url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      expect(
        (await change('/api/areas', { id: 'tw', name: '大埔镇', kind: 'township', parent: null })).status,
      ).toBe(201);
      const made = await change('/api/reports/ledger', { area: 'tw' });
      const { ledger } = (await made.json()) as { ledger: { id: string } };
      expect(made.status).toBe(201);
      const pdf = await session.fetch(`${url}/api/reports/ledgers/${ledger.id}/file?format=pdf`);
      const bytes = Buffer.from(await pdf.arrayBuffer());
      expect(pdf.status, bytes.toString()).toBe(200);
      expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
      // The import's worker thread (worker-main.js, the bundle's second program) reads a workbook:
      // the template, whose example row the import refuses until it is replaced.
      const template = await session.fetch(`${url}/api/households/template?format=xlsx`);
      const checked = await session.fetch(`${url}/api/households/import?mode=dry-run`, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' },
        body: Buffer.from(await template.arrayBuffer()),
      });
      const answer = (await checked.json()) as { ok: boolean; rows: number; format: string };
      expect([checked.status, answer.ok, answer.rows, answer.format], JSON.stringify(answer)).toEqual([
        200,
        false,
        1,
        'xlsx',
      ]);
      // The console: / leads to the app, which the bundle serves from server/console/dist.
      const root = await fetch(`${url}/`, { redirect: 'manual' });
      expect(root.headers.get('location')).toBe('/console/');
      const page = await fetch(`${url}/console/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/text\/html/);
      expect(await page.text()).toMatch(/<div id="app">/);
    } finally {
      await gw.endAsync();
    }
  });
});

describe('gaswatch-server (the bin)', () => {
  // A copy of the bin and its digest script in a tree of stub sources inside the repository (so
  // tsx resolves from node_modules): which of the two does it run?
  const tree = join(pkg, `.test-bin-${process.pid}`);
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(tree, path)), { recursive: true });
    writeFileSync(join(tree, path), text);
  };
  const run = () =>
    spawnSync(process.execPath, [join(tree, 'server', 'bin', 'gaswatch-server.js')], { encoding: 'utf8' });

  beforeAll(() => {
    write('server/bin/gaswatch-server.js', readFileSync(join(pkg, 'bin', 'gaswatch-server.js'), 'utf8'));
    write(
      'server/scripts/source-digest.mjs',
      readFileSync(join(pkg, 'scripts', 'source-digest.mjs'), 'utf8'),
    );
    write('server/src/main.ts', "const from: string = 'sources';\nconsole.log(from);\n");
    write('shared/src/index.ts', 'export {};\n');
    write('shared/profiles/x.yaml', 'id: x\n');
    write('server/dist/src/main.js', "console.log('build');\n");
  });
  afterAll(() => rmSync(tree, { recursive: true, force: true }));

  it('runs the build made from the sources beside it, and the sources when they changed since', async () => {
    const { sourceDigest } = (await import(
      pathToFileURL(join(tree, 'server/scripts/source-digest.mjs')).href
    )) as {
      sourceDigest(): string;
    };
    write('server/dist/build.json', JSON.stringify({ sources: sourceDigest() }));
    expect(run().stdout.trim()).toBe('build');

    write('server/src/main.ts', "const from: string = 'newer sources';\nconsole.log(from);\n");
    const stale = run();
    expect(stale.stdout.trim()).toBe('newer sources');
    expect(stale.stderr).toMatch(
      /the build was made from other sources than those in server\/src: running the sources/,
    );

    rmSync(join(tree, 'server/dist'), { recursive: true });
    expect(run().stderr).toMatch(/no build in server\/dist/);
  });
});
