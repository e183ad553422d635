import { readFileSync } from 'node:fs';
import { createRuleSet } from '@gaswatch/shared';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { GaswatchConfigSchema } from '../../src/alarms/config-schema.js';
import { selectRules } from '../../src/alarms/select.js';
import { deviceState, feed, MIN, makeRig, series, T0 } from './helpers.js';

/** Every problem GaswatchConfigSchema finds in `raw`, as `path: message`. */
function problems(raw: unknown): string[] {
  const r = GaswatchConfigSchema.safeParse(raw);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

const example = parse(readFileSync(new URL('../../gaswatch.example.yaml', import.meta.url), 'utf8'));

describe('GASWATCH_CONFIG', () => {
  it('an absent file parses to the SPEC defaults', () => {
    const cfg = GaswatchConfigSchema.parse({});
    expect(cfg.defaults).toEqual({
      coStandard: 'en50291',
      siteType: 'workplace',
      ackTimeout: { critical: 120, warning: 600 },
      // Who cannot get out alone: their alarms climb twice as fast (issue 13).
      vulnerableAckTimeout: {
        elderly_alone: { critical: 60, warning: 300 },
        bedridden: { critical: 60, warning: 300 },
        disabled: { critical: 60, warning: 300 },
      },
      steps: [],
      tiers: [],
      permits: { ruleSet: 'gb30871' },
    });
    // Nobody to tell until a chain is configured; the defaults of how it is told.
    expect(cfg.notify).toEqual({
      lang: 'zh-CN',
      smsSign: { 'zh-CN': '燃气安全', en: 'Gas Safety' },
      maxPerContactHour: 20,
      maxInFlight: 256,
      household: { steps: [] },
      duty: {},
      storm: { kinds: ['offline', 'fault', 'maintenance'], windowS: 30, minAlarms: 2 },
      evacuation: { channels: [] },
    });
    expect(selectRules(cfg, 'd', 'household-co', null).profile).toBe('en50291');
    expect(selectRules(cfg, 'd', 'multigas', null).profile).toBe('confined-space');
    expect(selectRules(cfg, 'd', 'combustible', null)).toEqual({
      profile: 'combustible',
      options: { siteType: 'workplace' },
    });
  });

  it('permits: GB 30871-2022 unless a site says otherwise; a site may only tighten it', () => {
    expect(GaswatchConfigSchema.parse({}).permits).toEqual({
      responseTimeS: 30,
      recordEveryMin: 30,
      sweepS: 15,
    });
    const cfg = GaswatchConfigSchema.parse(example);
    expect(cfg.sites['pump-station-3']?.permits).toMatchObject({
      ruleSet: 'gb30871',
      testWindowMin: { confined_space: 20 },
    });
    const loose = GaswatchConfigSchema.safeParse({
      sites: {
        plant: {
          permits: { ruleSet: 'gb30871', testWindowMin: { confined_space: 45 }, oxygen: { minPctVol: 19 } },
        },
      },
    });
    expect(loose.success).toBe(false);
    expect([...new Set(loose.error?.issues.map((i) => i.path.join('.')))]).toEqual([
      'sites.plant.permits.oxygen.minPctVol',
      'sites.plant.permits.testWindowMin.confined_space',
    ]);
  });

  it('the weekly ledger: Friday 16:00 unless set, the example at Friday noon, a bad time refused', () => {
    expect(GaswatchConfigSchema.parse({}).ledger).toEqual({ weekday: 5, time: '16:00' });
    expect(GaswatchConfigSchema.parse(example).ledger).toEqual({
      weekday: 5,
      time: '12:00',
      campaignStart: '2026-11-01',
    });
    const bad = GaswatchConfigSchema.safeParse({
      ledger: { weekday: 0, time: '24:00', campaignStart: '2026-02-30' },
    });
    expect(bad.success ? [] : bad.error.issues.map((i) => i.path.join('.'))).toEqual([
      'ledger.weekday',
      'ledger.time',
      'ledger.campaignStart',
    ]);
  });

  it('maintenance reminders: 30 days ahead unless set; a negative or fractional number refused', () => {
    expect(GaswatchConfigSchema.parse({}).maintenance).toEqual({ remindDays: 30 });
    expect(GaswatchConfigSchema.parse(example).maintenance).toEqual({ remindDays: 30 });
    expect(GaswatchConfigSchema.parse({ maintenance: { remindDays: 7 } }).maintenance.remindDays).toBe(7);
    const bad = GaswatchConfigSchema.safeParse({ maintenance: { remindDays: -1, days: 3 } });
    expect(bad.success ? [] : bad.error.issues.map((i) => i.path.join('.'))).toEqual([
      'maintenance.remindDays',
      'maintenance',
    ]);
    expect(GaswatchConfigSchema.safeParse({ maintenance: { remindDays: 1.5 } }).success).toBe(false);
  });

  it('the shipped example parses and every rule set it names builds', () => {
    const cfg = GaswatchConfigSchema.parse(example);
    expect(selectRules(cfg, 'x', 'household-co', 'liujiang-12-3-501').profile).toBe('ul2034');
    expect(selectRules(cfg, 'boiler-room-co', 'household-co', 'liujiang-12-3-501').profile).toBe('en50291');
    const flat = selectRules(cfg, 'x', 'combustible', 'liujiang-12-3-501');
    expect(
      createRuleSet(flat.profile, flat.options).conditions.find((c) => c.key === 'LEL:low')?.setPoint,
    ).toBe(10);
    const canteen = selectRules(cfg, 'x', 'combustible', 'canteen');
    expect(
      createRuleSet(canteen.profile, canteen.options).conditions.find((c) => c.key === 'LEL:low')?.setPoint,
    ).toBe(10);
  });

  it('lists every problem with its path', () => {
    const r = GaswatchConfigSchema.safeParse({
      defaults: { coStandard: 'bs-en-9999' },
      channels: { hook: { type: 'webhook', url: 'ftp://x', secret: 'short' } },
      sites: { a: { tiers: [{ contacts: [{ name: 'x', channel: 'nope' }] }], ackTimeout: { critical: -1 } } },
    });
    expect(r.success).toBe(false);
    const paths = r.error?.issues.map((i) => i.path.join('.')) ?? [];
    expect(paths).toEqual(
      expect.arrayContaining([
        'defaults.coStandard',
        'channels.hook.url',
        'channels.hook.secret',
        'sites.a.ackTimeout.critical',
      ]),
    );
  });

  it('hysteresis of 1 or more is refused by the schema with a clear message and its path', () => {
    for (const h of [1, 1.5]) {
      const r = GaswatchConfigSchema.safeParse({
        sites: { s: { alarms: { combustible: { options: { hysteresis: h } } } } },
        devices: { d: { options: { hysteresis: h } } },
      });
      expect(r.success).toBe(false);
      const issues = r.error?.issues ?? [];
      expect(issues.map((i) => i.path.join('.'))).toEqual([
        'sites.s.alarms.combustible.options.hysteresis',
        'devices.d.options.hysteresis',
      ]);
      for (const i of issues) expect(i.message).toMatch(/hysteresis .*must be below 1/);
    }
    expect(
      GaswatchConfigSchema.safeParse({ devices: { d: { options: { hysteresis: 0.99 } } } }).success,
    ).toBe(true);
  });

  it('rule options the shared rule sets reject are refused by the schema, each with its path', () => {
    const raw = {
      devices: { a: { options: { stelTwa: [{ gas: 'O2', twaMgM3: 5 }] } } },
      sites: {
        s: { alarms: { multigas: { options: { stelTwa: [{ gas: 'LEL', stelMgM3: 1 }] } } } },
        t: { alarms: { combustible: { options: { thresholds: { 'LEL:lo': 10 } } } } },
      },
    };
    expect(problems(raw)).toEqual([
      expect.stringMatching(/^sites\.s\.alarms\.multigas\.options: .*LEL/),
      expect.stringMatching(
        /^sites\.t\.alarms\.combustible\.options\.thresholds: "LEL:lo" is not a condition of profile combustible/,
      ),
      expect.stringMatching(/^devices\.a\.options: .*O2/),
    ]);
  });

  it('the old `household` key is refused with what to write instead, not read as marking a home', () => {
    const r = GaswatchConfigSchema.safeParse({
      defaults: { household: 'en50291' },
      sites: { 'flat-7': { household: 'ul2034' } },
    });
    expect(r.success).toBe(false);
    const issues = r.error?.issues ?? [];
    expect(issues.map((i) => i.path.join('.'))).toEqual(['defaults.household', 'sites.flat-7.household']);
    expect(issues[0]?.message).toMatch(/write "coStandard: en50291" instead, and "siteType: household"/);
    expect(issues[1]?.message).toMatch(/write "coStandard: ul2034" instead, and "type: household"/);
  });

  it('a site marked household runs the combustible first alarm at 10 %LEL unless an override names it', () => {
    const cfg = GaswatchConfigSchema.parse({
      defaults: { siteType: 'household' },
      sites: {
        flat: { type: 'household' },
        shop: { type: 'workplace' },
        'flat-15': {
          type: 'household',
          alarms: { combustible: { options: { thresholds: { 'LEL:low': 15 } } } },
        },
      },
      devices: { 'flat-lel-2': { options: { thresholds: { 'LEL:low': 20 } } } },
    });
    const lowAt = (dev: string, site: string | null) => {
      const sel = selectRules(cfg, dev, 'combustible', site);
      return createRuleSet(sel.profile, sel.options).conditions.find((c) => c.key === 'LEL:low')?.setPoint;
    };
    expect(lowAt('a', 'flat')).toBe(10);
    expect(lowAt('a', 'shop')).toBe(25);
    expect(lowAt('a', 'flat-15')).toBe(15);
    expect(lowAt('flat-lel-2', 'flat')).toBe(20);
    // A site not configured, or no site at all, takes defaults.siteType.
    expect(lowAt('a', 'elsewhere')).toBe(10);
    expect(lowAt('a', null)).toBe(10);
  });

  it('a device override without `profile` is checked against every profile its kind could select, and applies where it fits', async () => {
    const raw = {
      devices: {
        'pit-4gas': { options: { thresholds: { 'H2S:low': 5 } } },
        'kitchen-lel': { options: { thresholds: { 'LEL:low': 10 } } },
      },
    };
    expect(problems(raw)).toEqual([]);
    // A key no profile has is still refused, naming what is known.
    const typo = problems({ devices: { 'pit-4gas': { options: { thresholds: { 'H2S:lo': 5 } } } } });
    expect(typo).toHaveLength(1);
    expect(typo[0]).toMatch(
      /devices\.pit-4gas\.options\.thresholds: "H2S:lo" is not a condition of any alarm profile .*H2S:low/,
    );
    // A device that names its profile is held to it.
    expect(
      problems({ devices: { x: { profile: 'en50291', options: { thresholds: { 'H2S:low': 5 } } } } }),
    ).toEqual([
      expect.stringMatching(
        /devices\.x\.options\.thresholds: "H2S:low" is not a condition of profile en50291/,
      ),
    ]);

    // The server starts with it; the 4-gas detector's H2S low alarm is at 5 ppm instead of 10.
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) });
    const rig = await makeRig(raw, { logger });
    try {
      const pit = deviceState('multigas', 'pit');
      await feed(
        rig.store,
        rig.bus,
        series('gw', 'pit-4gas', pit, T0, T0 + MIN, 10, { O2: 20.9, LEL: 0, CO: 0, H2S: 6 }),
      );
      // The same override on a device that turns out to run household CO rules is reported, not silently dropped.
      const co = deviceState('household-co', 'home');
      await feed(rig.store, rig.bus, series('gw', 'kitchen-lel', co, T0, T0 + MIN, 10, { CO: 0 }));
      await rig.engine.idle();
      expect(rig.engine.list({ dev: 'pit-4gas' }).map((a) => [a.key, a.threshold])).toEqual([['H2S:low', 5]]);
      expect(rig.engine.list({ dev: 'kitchen-lel' })).toEqual([]);
      expect(lines.join('\n')).toMatch(
        /kitchen-lel runs alarm profile en50291 .*options\.thresholds: \\"LEL:low\\".*not applied/,
      );
    } finally {
      await rig.close();
    }
  });
});
