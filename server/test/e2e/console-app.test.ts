/**
 * The console app (server/console, served at /console/) in real headless Chromium against the
 * real server, in both languages at desk width (1400 px) and phone width (390 px): an operator
 * logs in; a CO alarm published by a gateway appears on the board, sounds (the test counts the
 * oscillators the page starts, critical's tones apart from a warning's) and raises a browser
 * notification; acknowledged with a note, the sound stops. A viewer sees the alarm but no
 * Acknowledge button. A server gone silent shows the stale banner. A login outlives a reload and
 * logging out ends it at the server; the login form says why a login is refused (wrong password,
 * too many tries and how long to wait). Nothing uncaught in the browser. The screenshots are the
 * docs'.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodePayload, topics } from '@gaswatch/shared';
import type { MqttClient } from 'mqtt';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PATTERNS } from '../../console/src/sound-patterns.js';
import type { Alarm } from '../../src/alarms/model.js';
import {
  connectGateway,
  createUser,
  login,
  reading,
  startTestServer,
  type TestServer,
  tempDir,
} from '../helpers.js';
import { deviceState, docImage, launchChromium, publish, publishState, type View, views } from './browser.js';
import { ConsoleApp } from './console-app.js';

const GW = 'gw-app';
const CRITICAL_HZ = new Set<number>(PATTERNS.critical.tones);

const CASES = views('console-app');

const WORDS = {
  'zh-CN': {
    who: '林建国（值班人员）',
    viewer: '赵敏（查看人员）',
    critical: '紧急',
    headline: '一氧化碳报警',
    stale: /^数据中断/,
  },
  'en-US': {
    who: '林建国 (operator)',
    viewer: '赵敏 (viewer)',
    critical: 'Critical',
    headline: 'Carbon monoxide alarm',
    stale: /^STALE: nothing from the server/,
  },
} as const;

describe('the console app in Chromium', () => {
  const tmp = tempDir('gaswatch-app-');
  let server: TestServer;
  let browser: Browser;
  let gateway: MqttClient;
  let seq = 0;
  const apps: ConsoleApp[] = [];
  const open = async (c: View) => {
    const app = await ConsoleApp.create(browser, c);
    apps.push(app);
    await app.goto(server.url);
    return app;
  };

  beforeAll(async () => {
    // Every device on the confined-space profile: CO ≥ 200 ppm is critical at once (no dose curve).
    const devices = CASES.map((_, i) => `  room-${i}: { profile: confined-space }`).join('\n');
    writeFileSync(join(tmp.dir, 'gaswatch.yaml'), `devices:\n${devices}\n`);
    [server, browser] = await Promise.all([
      startTestServer({ GASWATCH_CONFIG: join(tmp.dir, 'gaswatch.yaml') }),
      launchChromium(),
    ]);
    await createUser(server.app.db, { username: 'lin', displayName: '林建国', role: 'operator' });
    await createUser(server.app.db, { username: 'zhao', displayName: '赵敏', role: 'viewer' });
    gateway = await connectGateway(server, GW);
  }, 60_000);

  afterAll(async () => {
    for (const a of apps) await a.close();
    await browser?.close();
    await gateway?.endAsync();
    await server?.close();
    tmp.remove();
  });

  it.each(CASES.map((c, i): View & { dev: string } => ({ ...c, dev: `room-${i}` })))(
    '$locale at $width px: a CO alarm sounds and notifies until acknowledged; a viewer cannot acknowledge; a silent server shows the banner',
    { timeout: 90_000 },
    async ({ locale, width, shot, dev }) => {
      const words = WORDS[locale];
      const lin = await open({ locale, width, shot });
      await lin.logIn('lin');
      expect(await lin.who()).toBe(words.who);
      await expect
        .poll(() => lin.page.getByTestId('alarm-count').isVisible(), { timeout: 10_000 })
        .toBe(true);

      await publishState(
        gateway,
        GW,
        dev,
        // A minute's poll: an earlier case's detector must not go offline (and sound a warning)
        // while a later case counts the tones after its acknowledgement.
        deviceState({ pollIntervalS: 60, site: 'flat-7', location: 'kitchen' }),
      );
      await publish(gateway, GW, dev, reading(seq++, Date.now(), { CO: 400 }));
      const critical = lin.alarms(dev).and(lin.page.locator('[data-severity="critical"]'));
      await critical.first().waitFor({ timeout: 15_000 });
      expect(await critical.first().textContent()).toContain(words.critical);
      expect(await critical.first().textContent()).toContain(words.headline);
      // Critical first on the board.
      expect(await lin.page.getByTestId('alarm').first().getAttribute('data-severity')).toBe('critical');

      // It sounds (critical's pattern) and notifies.
      await expect
        .poll(async () => (await lin.tones()).filter((t) => CRITICAL_HZ.has(t.hz)).length, {
          timeout: 10_000,
        })
        .toBeGreaterThanOrEqual(PATTERNS.critical.tones.length);
      expect((await lin.tones()).find((t) => CRITICAL_HZ.has(t.hz))?.wave).toBe('square');
      await expect
        .poll(async () => (await lin.notes()).filter((n) => n.tag.startsWith(`${dev}.`)).length, {
          timeout: 10_000,
        })
        .toBeGreaterThan(0);
      const criticalId = await critical.first().getAttribute('data-alarm');
      const note = (await lin.notes()).find((n) => n.tag === criticalId);
      expect(note?.title).toContain(words.headline);
      expect(note?.body).toContain(dev);
      // ... and keeps sounding while unacknowledged.
      const before = (await lin.tones()).length;
      await expect.poll(async () => (await lin.tones()).length, { timeout: 5_000 }).toBeGreaterThan(before);

      // The Acknowledge button is on screen, even at phone width.
      const ack = critical.first().getByTestId('ack');
      await ack.scrollIntoViewIfNeeded();
      const box = await ack.boundingBox();
      expect(box).not.toBeNull();
      expect((box?.x ?? -1) >= 0 && (box?.x ?? 0) + (box?.width ?? 0) <= width).toBe(true);
      // The pointer left over the login button would hover whatever is there now.
      await lin.page.mouse.move(0, 0);
      await lin.page.screenshot({ path: docImage(shot) });

      // A viewer sees the alarm, and no Acknowledge button.
      const zhao = await open({ locale, width, shot });
      await zhao.logIn('zhao');
      expect(await zhao.who()).toBe(words.viewer);
      await zhao.alarms(dev).first().waitFor({ timeout: 15_000 });
      expect(await zhao.page.getByTestId('ack').count()).toBe(0);

      // The operator acknowledges every alarm of the device (CO 400 also raised warnings): silence.
      const pending = lin.alarms(dev).filter({ has: lin.page.getByTestId('ack') });
      for (let i = 0; i < 6 && (await pending.count()) > 0; i++) {
        const n = await pending.count();
        await lin.acknowledge(pending.first(), '已电话联系住户，开窗通风，人员已撤离');
        await expect.poll(() => pending.count(), { timeout: 10_000 }).toBeLessThan(n);
      }
      expect(await pending.count()).toBe(0);
      await expect
        .poll(() => critical.first().getByTestId('acked-by').textContent(), { timeout: 10_000 })
        .toMatch(/林建国[\s\S]*已电话联系住户/);
      // A pattern under way finishes; then nothing more (a critical repeats every 2 s).
      await new Promise((r) => setTimeout(r, 1_000));
      const after = (await lin.tones()).length;
      await new Promise((r) => setTimeout(r, PATTERNS.critical.periodMs + 1_500));
      expect((await lin.tones()).length).toBe(after);

      // The server goes silent (no heartbeat): within 5 s the banner; it goes when the server is back.
      lin.freeze(true);
      await expect.poll(() => lin.staleBanner.isVisible(), { timeout: 10_000 }).toBe(true);
      expect(await lin.staleBanner.textContent()).toMatch(words.stale);
      if (width > 600) await lin.page.screenshot({ path: docImage(shot.replace('.png', '-stale.png')) });
      lin.freeze(false);
      await expect.poll(() => lin.staleBanner.isVisible(), { timeout: 15_000 }).toBe(false);

      expect(lin.errors).toEqual([]);
      expect(zhao.errors).toEqual([]);
    },
  );

  it('a gateway gone offline is one alarm listing its devices, acknowledged with one note', {
    timeout: 60_000,
  }, async () => {
    const storm = await connectGateway(server, 'gw-storm');
    const devs = ['storm-a', 'storm-b', 'storm-c'];
    for (const dev of devs) {
      await publishState(storm, 'gw-storm', dev, deviceState({ pollIntervalS: 1, site: 'flat-9' }));
      await publish(storm, 'gw-storm', dev, reading(seq++, Date.now(), { CO: 0 }));
    }
    const lin = await open(CASES[0]);
    await lin.logIn('lin');
    // The gateway's will: the broker says it is gone. Its devices fold into one gateway alarm
    // (issue 18): the card counts and lists them, none of them gets an alarm of its own.
    await storm.publishAsync(topics.status('gw-storm'), encodePayload('status', { v: 1, online: false }), {
      qos: 1,
      retain: true,
    });
    const card = lin.page.locator('[data-alarm^="gw-storm.gateway-offline."]');
    await expect.poll(() => card.count(), { timeout: 15_000 }).toBe(1);
    expect(await card.getByTestId('fold-count').textContent()).toBe(
      '网关下 3 台探测器全部失联（已并为一条报警，不再逐台报）',
    );
    expect(await card.getByTestId('fold-devices').textContent()).toMatch(
      /失联设备：storm-a、storm-b、storm-c/,
    );
    await card.screenshot({ path: docImage('console-gateway-offline.png') });
    await card.getByTestId('ack').click();
    await lin.page
      .locator('textarea[data-testid="ack-note"], [data-testid="ack-note"] textarea')
      .first()
      .fill('村里停电，已联系供电所');
    await lin.page.getByTestId('ack-submit').click();
    const operator = await login(server.url, 'lin');
    const alarmsOf = async (dev: string) =>
      ((await (await operator.fetch(`${server.url}/api/alarms?device=${dev}`)).json()) as { alarms: Alarm[] })
        .alarms;
    await expect
      .poll(async () => (await alarmsOf('gw-storm')).map((a) => [a.key, a.ack?.actor, a.ack?.note]), {
        timeout: 10_000,
      })
      .toEqual([['gateway-offline', 'lin', '村里停电，已联系供电所']]);
    for (const dev of devs) {
      expect(await alarmsOf(dev)).toEqual([]);
      const device = (await (await operator.fetch(`${server.url}/api/devices/${dev}`)).json()) as {
        online: boolean;
        offline: { reason: string } | null;
      };
      expect(device).toMatchObject({ online: false, offline: { reason: 'gateway_offline' } });
    }
    await storm.endAsync();
    expect(lin.errors).toEqual([]);
  });

  it('keeps a login over a reload; logging out ends it at the server', { timeout: 60_000 }, async () => {
    const lin = await open(CASES[0]);
    await lin.logIn('lin');
    await lin.page.reload();
    await expect.poll(() => lin.who(), { timeout: 15_000 }).toBe(WORDS['zh-CN'].who);
    expect(await lin.loginForm.isVisible()).toBe(false);

    const [cookie] = await lin.page.context().cookies(server.url);
    expect(cookie).toMatchObject({ name: 'gaswatch_session', httpOnly: true, sameSite: 'Strict' });
    await lin.logOut();
    expect(await lin.board.isVisible()).toBe(false);
    expect(await lin.who()).toBe('');
    expect(await lin.loginReason()).toBe('已退出登录。');
    // The old cookie opens nothing at the server any more.
    const replayed = await fetch(`${server.url}/api/session`, {
      headers: { cookie: `${cookie?.name}=${cookie?.value}` },
    });
    expect(replayed.status).toBe(401);
    await lin.page.reload();
    await lin.loginForm.waitFor({ state: 'visible', timeout: 15_000 });
    expect(await lin.board.isVisible()).toBe(false);
    expect(lin.errors).toEqual([]);
  });

  // Last: the guesses count against this address too (20 failures lock it).
  it('asks for a login first, and says why one is refused: wrong password, too many tries', {
    timeout: 60_000,
  }, async () => {
    const zh = await open(CASES[0]);
    await zh.loginForm.waitFor({ state: 'visible', timeout: 15_000 });
    expect(await zh.board.isVisible()).toBe(false);
    expect(await zh.who()).toBe('');
    expect(await zh.page.title()).toBe('登录值班台 — gaswatch');
    await zh.page.setViewportSize({ width: 800, height: 560 });
    await zh.page.screenshot({ path: docImage('console-login.png') });

    expect(await zh.loginAnswer('lin', 'not-the-password')).toBe('用户名或密码错误');
    expect(await zh.board.isVisible()).toBe(false);
    const en = await open(CASES[2]);
    expect(await en.loginAnswer('lin', 'not-the-password')).toBe('Wrong username or password');

    // Guessing at an account (one that does not exist is throttled alike): after 5 failures it
    // is locked for 1 s, then 2 s, 4 s …; the form says how long to wait (Retry-After).
    let said = '';
    for (let i = 0; i < 10 && !said.startsWith('登录尝试过多'); i++) {
      said = await zh.loginAnswer('ghost', `guess-${i}`);
      expect(said).toMatch(/^(用户名或密码错误|登录尝试过多，请 \d+ 秒后再试)$/);
    }
    expect(said).toMatch(/^登录尝试过多，请 [1-9]\d* 秒后再试$/);
    expect(await zh.board.isVisible()).toBe(false);
    // Chromium logs each refused login as a failed resource: a 429 is expected here.
    const errors = [...zh.errors, ...en.errors].filter((e) => !/status of 429 \(Too Many Requests\)/.test(e));
    expect(errors).toEqual([]);
  });
});
