/**
 * The response card in real Chromium against the real server, in both languages at desk and phone
 * width: a CO alarm at a household opens from the board into its card, which shows the household
 * procedure, the site's contacts in call order and where escalation stands (tier 1 notified over a
 * real webhook). The operator logs a call that went unanswered, goes ("on my way": it acknowledges,
 * the gateway answers the silence command), arrives ("on site") and resolves with a reason while
 * the gas is still there: the card says it stays open until the reading clears, and it closes when
 * it does. A viewer sees the card without actions, and the API refuses the viewer's resolve.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, CommandSchema, encodePayload, topics } from '@gaswatch/shared';
import type { MqttClient } from 'mqtt';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startReceiver } from '../alarms/helpers.js';
import {
  apiFetch,
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

const GW = 'gw-card';

const CASES = views('console-card');

const WORDS = {
  'zh-CN': {
    procedure: /开窗通风.*120/s,
    household: /柳江村 7 组 \d 号\s*独居老人/,
    householdCard: /柳江村 7 组 \d 号.*1 人.*独居老人.*炭火.*卧室.*耳背/s,
    noAnswer: '无人接听',
    notified: /已通知第 1 级：王秀英/,
    next: /若仍无人确认，.*通知第 2 级/,
    onMyWay: /林建国 于 .* 出发前往/,
    resolved: /林建国 于 .* 办结：真实警情/,
    stillOn: /读数仍超过报警值/,
    held: '暂缓',
    silence: '网关已消音',
    closed: '已恢复',
  },
  'en-US': {
    procedure: /open the windows.*120/s,
    household: /柳江村 7 组 \d 号\s*Elderly, alone/,
    householdCard: /柳江村 7 组 \d 号.*Occupants\s*1.*Elderly, alone.*Charcoal.*卧室.*耳背/s,
    noAnswer: 'No answer',
    notified: /tier 1 notified: 王秀英/,
    next: /If still unacknowledged, tier 2 is notified at/,
    onMyWay: /林建国 on the way since/,
    resolved: /Resolved by 林建国 at .*: Real gas event/,
    stillOn: /still over the set point/,
    held: 'Held back',
    silence: 'Silenced by the gateway',
    closed: 'Cleared',
  },
} as const;

describe('the response card in Chromium', () => {
  const tmp = tempDir('gaswatch-card-');
  let server: TestServer;
  let browser: Browser;
  let gateway: MqttClient;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let seq = 0;
  const apps: ConsoleApp[] = [];
  const open = async (c: View) => {
    const app = await ConsoleApp.create(browser, c);
    apps.push(app);
    await app.goto(server.url);
    return app;
  };

  beforeAll(async () => {
    receiver = await startReceiver();
    writeFileSync(
      join(tmp.dir, 'gaswatch.yaml'),
      stringify({
        channels: {
          duty: { type: 'webhook', url: receiver.url, secret: 'card-test-webhook-secret', retries: 0 },
        },
        sites: {
          'flat-7': {
            type: 'household',
            ackTimeout: { critical: 3600, warning: 3600 },
            tiers: [
              { name: '住户', contacts: [{ name: '王秀英', channel: 'duty', to: '138 0000 0001' }] },
              { name: '网格员', contacts: [{ name: '李国强', channel: 'duty', to: '13900000002' }] },
            ],
          },
        },
        // CO ≥ 200 ppm is critical at once on this profile (no dose curve to wait for).
        devices: Object.fromEntries(
          CASES.flatMap((_, i) => [`home-${i}`, `shop-${i}`]).map((d) => [d, { profile: 'confined-space' }]),
        ),
      }),
    );
    [server, browser] = await Promise.all([
      startTestServer({ GASWATCH_CONFIG: join(tmp.dir, 'gaswatch.yaml') }),
      launchChromium(),
    ]);
    // Each case's detector is in a registered home where an elderly woman lives alone.
    const admin = (path: string, body: unknown) =>
      apiFetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then((r) => expect(r.status, path).toBe(201));
    await admin('/api/areas', { id: 'liujiang', name: '柳江村', kind: 'village', parent: null });
    for (const [i] of CASES.entries())
      await admin('/api/households', {
        id: `liujiang-7-${i}`,
        area: 'liujiang',
        address: `柳江村 7 组 ${i + 1} 号`,
        occupants: { count: 1, flags: ['elderly_alone'] },
        heating: ['charcoal'],
        contacts: [
          { name: '王秀英', relation: 'occupant', phone: '138 0000 0001' },
          { name: '王建军', relation: 'family', phone: '13900000009' },
        ],
        notes: '耳背，敲门要用力',
        detectors: [{ device: `home-${i}`, location: '卧室' }],
      });
    await createUser(server.app.db, { username: 'lin', displayName: '林建国', role: 'operator' });
    await createUser(server.app.db, { username: 'zhao', displayName: '赵敏', role: 'viewer' });
    gateway = await connectGateway(server, GW);
    // The gateway answers every silence command, as a real one does once its sounder stops.
    await gateway.subscribeAsync(topics.cmd(GW), { qos: 1 });
    gateway.on('message', (topic, payload) => {
      if (topic !== topics.cmd(GW)) return;
      const cmd: Command = CommandSchema.parse(JSON.parse(payload.toString()));
      void gateway.publishAsync(
        topics.cmdResult(GW),
        encodePayload('cmdResult', { v: 1, id: cmd.id, ok: true, ts: new Date().toISOString() }),
        { qos: 1 },
      );
    });
  }, 60_000);

  afterAll(async () => {
    for (const a of apps) await a.close();
    await browser?.close();
    await gateway?.endAsync();
    await server?.close();
    await receiver?.close();
    tmp.remove();
  });

  it.each(CASES.map((c, i) => ({ ...c, dev: `home-${i}` })))(
    '$locale at $width px: call, on my way, on site, resolve; a viewer only reads',
    { timeout: 120_000 },
    async ({ locale, width, shot, dev }) => {
      const words = WORDS[locale];
      const lin = await open({ locale, width, shot });
      await lin.logIn('lin');
      // A shop's detector (no household) raises first; the elderly woman's home after it.
      const shop = dev.replace('home', 'shop');
      await publishState(
        gateway,
        GW,
        shop,
        deviceState({ pollIntervalS: 1, site: 'flat-7', location: 'shop' }),
      );
      await publish(gateway, GW, shop, reading(seq++, Date.now(), { CO: 400 }));
      await lin.alarms(shop).first().waitFor({ timeout: 15_000 });
      await publishState(
        gateway,
        GW,
        dev,
        deviceState({ pollIntervalS: 1, site: 'flat-7', location: 'bedroom' }),
      );
      await publish(gateway, GW, dev, reading(seq++, Date.now(), { CO: 400 }));
      const critical = lin.alarms(dev).and(lin.page.locator('[data-severity="critical"]'));
      await critical.first().waitFor({ timeout: 15_000 });
      // Critical first, and among criticals the vulnerable household before the older shop alarm.
      const firstCard = lin.page.getByTestId('alarm').first();
      expect(await firstCard.getAttribute('data-alarm')).toBe(
        await critical.first().getAttribute('data-alarm'),
      );
      expect(await critical.first().getByTestId('alarm-household').textContent()).toMatch(words.household);
      const id = await critical.first().getAttribute('data-alarm');

      // From the board into the card.
      await critical.first().getByTestId('open-card').click();
      const card = lin.page.getByTestId('alarm-detail');
      await card.getByTestId('card-head').waitFor({ timeout: 10_000 });
      expect(await card.getByTestId('card-procedure').textContent()).toMatch(words.procedure);
      expect(await card.getByTestId('card-household').textContent()).toMatch(words.householdCard);
      const first = card.getByTestId('contact').first();
      expect(await first.getAttribute('data-contact')).toBe('王秀英');
      expect(await first.locator('a[href^="tel:"]').getAttribute('href')).toBe('tel:13800000001');
      await expect
        .poll(() => card.getByTestId('card-escalation').textContent(), { timeout: 10_000 })
        .toMatch(words.notified);
      expect(await card.getByTestId('escalation-next').textContent()).toMatch(words.next);
      expect(receiver.received.some((r) => r.body.alarmId === id && r.body.tier === 1)).toBe(true);
      // What the detector read around the alarm, with its set points (200 ppm critical, 35 warning).
      const chart = card.getByTestId('card-readings').getByTestId('readings-chart');
      await expect.poll(() => chart.getAttribute('data-points'), { timeout: 10_000 }).not.toBe('0');
      expect(await chart.getAttribute('data-gas')).toBe('CO');
      expect(await chart.getAttribute('data-thresholds')).toMatch(/200/);

      // A call that went unanswered: logged, the alarm still unacknowledged.
      await first.getByTestId('call-no_answer').click();
      await expect
        .poll(() => card.locator('[data-type="call"]').first().textContent(), { timeout: 10_000 })
        .toContain(words.noAnswer);
      expect(await card.getByTestId('card-head').getAttribute('data-state')).toBe('active');

      // On my way: acknowledged by the logged-in operator; the gateway silences its sounder.
      await card.getByTestId('card-on-my-way-button').click();
      await expect
        .poll(() => card.getByTestId('card-on-my-way').textContent(), { timeout: 10_000 })
        .toMatch(words.onMyWay);
      expect(await card.getByTestId('card-head').getAttribute('data-state')).toBe('acknowledged');
      // CO 400 ppm also raised the device's warning alarm, still unacknowledged: the sounder
      // stays on until that one is acknowledged too, and the card says so.
      await expect
        .poll(() => card.getByTestId('card-silence').textContent(), { timeout: 10_000 })
        .toContain(words.held);
      const operator = await login(server.url, 'lin');
      const others = (await (
        await operator.fetch(`${server.url}/api/alarms?state=active&device=${dev}`)
      ).json()) as {
        alarms: { id: string }[];
      };
      expect(others.alarms.length).toBeGreaterThan(0);
      for (const other of others.alarms)
        await operator.fetch(`${server.url}/api/alarms/${encodeURIComponent(other.id)}/ack`, {
          method: 'POST',
        });
      await expect
        .poll(() => card.getByTestId('card-silence').textContent(), { timeout: 10_000 })
        .toContain(words.silence);
      await card.getByTestId('card-on-site-button').click();
      await card.getByTestId('card-on-site').waitFor({ timeout: 10_000 });

      // Resolve with a reason, while the detector still reads 400 ppm.
      await card.getByTestId('card-resolve').click();
      await lin.page.getByTestId('resolve-submit').click(); // no reason yet: refused in words
      await lin.page.locator('[data-testid="resolve-dialog"] [role="alert"]').waitFor({ timeout: 5_000 });
      await lin.page.getByTestId('reason-real_event').click();
      await lin.page
        .locator('textarea[data-testid="resolve-note"], [data-testid="resolve-note"] textarea')
        .first()
        .fill('卧室烧炭取暖，已熄灭炭火并开窗');
      await lin.page.getByTestId('resolve-submit').click();
      await expect
        .poll(() => card.getByTestId('card-resolution').textContent(), { timeout: 10_000 })
        .toMatch(words.resolved);
      expect(await card.getByTestId('card-still-on').textContent()).toMatch(words.stillOn);
      await lin.page.mouse.move(0, 0);
      await lin.page.getByTestId('resolve-dialog').waitFor({ state: 'hidden', timeout: 5_000 });
      await expect.poll(() => lin.page.locator('.el-message').count(), { timeout: 10_000 }).toBe(0);
      // At desk width the whole card; a phone's tab bar is fixed, so its screen as the worker sees it.
      await lin.page.screenshot({ path: docImage(shot), fullPage: width > 600 });

      // A viewer reads the same card, with no actions; the API refuses the viewer's resolve anyway.
      const zhao = await open({ locale, width, shot });
      await zhao.logIn('zhao');
      await zhao.page.goto(`${server.url}/console/#/alarms/${encodeURIComponent(id ?? '')}`);
      await zhao.page.getByTestId('card-resolution').waitFor({ timeout: 10_000 });
      expect(await zhao.page.getByTestId('card-actions').count()).toBe(0);
      expect(await zhao.page.getByTestId('call-reached').count()).toBe(0);
      const viewer = await login(server.url, 'zhao');
      const refused = await viewer.fetch(`${server.url}/api/alarms/${encodeURIComponent(id ?? '')}/resolve`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'false_alarm', note: '' }),
      });
      expect(refused.status).toBe(403);

      // Clean air: the resolved alarm closes.
      await publish(gateway, GW, dev, reading(seq++, Date.now(), { CO: 0 }));
      await expect
        .poll(() => card.getByTestId('card-state').textContent(), { timeout: 15_000 })
        .toContain(words.closed);
      expect(await card.getByTestId('card-still-on').count()).toBe(0);

      expect(lin.errors).toEqual([]);
      expect(zhao.errors).toEqual([]);
    },
  );
});
