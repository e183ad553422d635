import {
  AreaIdSchema,
  CONTACT_RELATIONS,
  DaySchema,
  DEFAULT_REMIND_DAYS,
  GasIdSchema,
  IdSchema,
  type OccupantFlag,
  SitePermitRulesSchema,
  VULNERABLE_FLAGS,
} from '@gaswatch/shared';
import { z } from 'zod';
import { ChannelConfigSchema } from '../notify/channel-config.js';
import { ALARM_KINDS } from './model.js';
import { ruleConfigIssues } from './select.js';

/**
 * The GASWATCH_CONFIG file (YAML or JSON): sites, contact tiers, escalation, notification
 * channels and alarm-profile overrides. Every field has a default, so an absent file
 * parses as `{}`. Core's config loader reads the file and validates it with this schema.
 */

export const AlarmProfileIdSchema = z
  .enum(['ul2034', 'en50291', 'combustible', 'confined-space'])
  .describe('Alarm profile of SPEC §6: ul2034 | en50291 (household CO), combustible, confined-space');
export type AlarmProfileIdConfig = z.infer<typeof AlarmProfileIdSchema>;

export const CoStandardSchema = z
  .enum(['ul2034', 'en50291'])
  .describe('Which CO alarm standard the household-co detectors of a site follow: en50291 | ul2034');

export const SiteTypeSchema = z
  .enum(['household', 'workplace'])
  .describe(
    'household: a home, combustible first alarm at 10 %LEL (GB 15322); workplace: 25 %LEL (GB/T 50493-2019)',
  );

/**
 * The key `household` of configs before `coStandard` and `type`: it named the CO standard only and
 * never marked a site as a home. Read today it would look like a household marking that does
 * nothing to the combustible alarm, so it is refused with what to write instead.
 */
const RemovedHousehold = (markHome: string) =>
  z
    .never({
      error: (iss) => {
        const standard = iss.input === 'ul2034' || iss.input === 'en50291' ? iss.input : 'en50291 or ul2034';
        return `"household" is no longer read (it named the CO standard and never marked a home): write "coStandard: ${standard}" instead, and ${markHome} (combustible first alarm at 10 %LEL, GB 15322)`;
      },
    })
    .optional()
    .describe('Removed: write coStandard, and type (site) or siteType (defaults): household for homes');

const Seconds = z
  .number()
  .finite()
  .positive()
  .max(7 * 86_400);

export const AckTimeoutSchema = z
  .object({
    critical: Seconds.default(120).describe(
      'Seconds an unacknowledged critical alarm waits before the next tier',
    ),
    warning: Seconds.default(600).describe('Seconds an unacknowledged warning waits before the next tier'),
  })
  .strict()
  .describe('Escalation delay per severity, seconds (SPEC §6: 120 s critical, 600 s warning)');
export type AckTimeout = z.infer<typeof AckTimeoutSchema>;

const PartialAckTimeoutSchema = z
  .object({
    critical: Seconds.optional().describe('Seconds before the next tier, critical alarms'),
    warning: Seconds.optional().describe('Seconds before the next tier, warnings'),
  })
  .strict();

/** Who cannot get out alone: their alarms climb the chain twice as fast as the default. */
const DEFAULT_VULNERABLE_ACK_TIMEOUT: Partial<Record<OccupantFlag, { critical?: number; warning?: number }>> =
  {
    elderly_alone: { critical: 60, warning: 300 },
    bedridden: { critical: 60, warning: 300 },
    disabled: { critical: 60, warning: 300 },
  };

const KeyedNumbers = (what: string) =>
  z
    .record(z.string().min(1).max(64), z.number().finite().min(0))
    .describe(`${what} by condition key, e.g. { "LEL:low": 10 }`);

/** Options handed to the shared rule set (`createRuleSet(profile, options)`), see shared/src/alarms/types.ts. */
export const RuleOptionsConfigSchema = z
  .object({
    thresholds: KeyedNumbers('Set points (unit of the condition)').optional(),
    hysteresis: z
      .number()
      .min(0, 'hysteresis is a fraction of the set point: it must be ≥ 0')
      .lt(
        1,
        'hysteresis is a fraction of the set point and must be below 1 (1 would clear only at 0; the rule sets refuse it); use `bands` for an absolute band',
      )
      .optional()
      .describe('Fraction of the set point to fall below before clearing, 0 ≤ h < 1 (default 0.1)'),
    bands: KeyedNumbers('Absolute hysteresis bands').optional(),
    onDelayS: z
      .number()
      .min(0)
      .max(86_400)
      .optional()
      .describe('Seconds a plain threshold must hold before raising'),
    onDelays: KeyedNumbers('On-delays in seconds').optional(),
    stelTwa: z
      .array(
        z
          .object({
            gas: GasIdSchema,
            stelMgM3: z.number().positive().optional().describe('PC-STEL, 15-min mean limit, mg/m³'),
            twaMgM3: z.number().positive().optional().describe('PC-TWA, 8-h mean limit, mg/m³'),
            macMgM3: z.number().positive().optional().describe('MAC ceiling, mg/m³'),
          })
          .strict(),
      )
      .optional()
      .describe('Exposure limits (default GBZ 2.1: CO TWA 20 / STEL 30 mg/m³, H2S MAC 10 mg/m³)'),
    molarVolume: z.enum(['25C', '0C']).optional().describe('ppm → mg/m³ basis: 24.45 L (25C) or 22.4 L (0C)'),
    maxGapS: z
      .number()
      .positive()
      .max(86_400)
      .optional()
      .describe('Samples further apart do not integrate across the gap'),
    maxWarmupS: z.number().positive().max(86_400).optional().describe('A longer warm-up raises a fault'),
    faultCodes: z
      .array(z.string().max(64))
      .max(64)
      .optional()
      .describe('Fault codes that raise the fault alarm'),
    combustibleCo: z
      .enum(['en50291', 'ul2034'])
      .optional()
      .describe('Rules for a CO channel on a combustible detector'),
  })
  .strict()
  .describe(
    'RuleOptions for createRuleSet: thresholds, hysteresis, on-delays, STEL/TWA limits, molar volume',
  );

export const AlarmOverrideSchema = z
  .object({
    profile: AlarmProfileIdSchema.optional().describe(
      'Use this profile instead of the one the device kind implies',
    ),
    options: RuleOptionsConfigSchema.optional(),
  })
  .strict();
export type AlarmOverride = z.infer<typeof AlarmOverrideSchema>;

/** A channel name under `channels`. */
const ChannelName = z.string().min(1).max(64);

export const ContactSchema = z
  .object({
    name: z.string().min(1).max(128).describe('Who this is, as shown in notifications and the audit trail'),
    channel: ChannelName.optional().describe('Key of a notification channel under `channels`'),
    channels: z
      .array(ChannelName)
      .min(1)
      .max(8)
      .optional()
      .describe(
        "Channels in failover order instead of one `channel`: a failed or undelivered message goes out at once on the next (default: the step's `channels`)",
      ),
    to: z
      .string()
      .max(256)
      .optional()
      .describe(
        'Address on its channels: a phone number (E.164, or a mainland mobile 138…), an e-mail address; a webhook or chat robot may leave it out',
      ),
    lang: z.enum(['zh-CN', 'en']).optional().describe('Language of their messages (default notify.lang)'),
  })
  .strict()
  .refine((c) => c.channel === undefined || c.channels === undefined, {
    message: 'give either channel or channels, not both',
    path: ['channels'],
  });
export type Contact = z.infer<typeof ContactSchema>;

/** Who a household step tells: the household's own contacts of these relations, in its call order. */
const RelationsSchema = z
  .array(z.enum(CONTACT_RELATIONS))
  .min(1)
  .max(CONTACT_RELATIONS.length)
  .describe(
    "The household's own contacts of these relations (occupant, family, neighbour, grid_worker, village_cadre), in its call order",
  );

/**
 * One step of an escalation chain (SPEC §12): whom it tells, how, and how long it waits for an
 * acknowledgement before the next. `tiers` configs of before issue 15 are steps with only
 * `contacts`.
 */
export const TierSchema = z
  .object({
    name: z.string().max(128).optional().describe('Label of this step, e.g. "residents" or "duty officer"'),
    contacts: z
      .array(ContactSchema)
      .max(64)
      .default([])
      .describe('Everyone notified when the alarm reaches this step'),
    household: RelationsSchema.optional(),
    duty: z
      .enum(['village', 'township', 'county'])
      .optional()
      .describe(
        "The duty contacts (notify.duty) of the alarm's village or community, township or county: the nearest area of that kind above the alarm's",
      ),
    channels: z
      .array(ChannelName)
      .min(1)
      .max(8)
      .optional()
      .describe(
        'Channels, in failover order, for the contacts that name none (household and duty contacts among them)',
      ),
    waitS: Seconds.optional().describe(
      'Seconds to wait for an acknowledgement before the next step (default: ackTimeout of the severity)',
    ),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (t.contacts.length === 0 && t.household === undefined && t.duty === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['contacts'],
        message: 'a step tells someone: give contacts, household relations or duty',
      });
    if ((t.household !== undefined || t.duty !== undefined) && t.channels === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['channels'],
        message: 'a step with household or duty contacts needs channels (they name none of their own)',
      });
    for (const [i, c] of t.contacts.entries())
      if (c.channel === undefined && c.channels === undefined && t.channels === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['contacts', i, 'channel'],
          message: "name the contact's channel (or channels, or the step's channels)",
        });
  });
export type Tier = z.infer<typeof TierSchema>;

/**
 * How often the top step is told again while nobody acknowledges: seconds, or false for never.
 * Absent: `steps` repeat at the top step's wait; legacy `tiers` do not (as before issue 15).
 */
const RepeatSchema = z
  .union([Seconds, z.literal(false)])
  .optional()
  .describe(
    'Seconds between repeats of the top step until acknowledged (default for steps: its wait), or false',
  );

/** A duty contact of an area (the village grid worker, the township duty room). */
export const DutyContactSchema = z
  .object({
    name: z.string().min(1).max(128).describe('Who, e.g. 柳江村网格员 韦小明 or 大埔镇应急值班室'),
    to: z.string().min(1).max(256).describe('Phone number or e-mail address'),
    channels: z
      .array(ChannelName)
      .min(1)
      .max(8)
      .optional()
      .describe("Channels in failover order (default: the step's)"),
    lang: z.enum(['zh-CN', 'en']).optional(),
  })
  .strict();
export type DutyContact = z.infer<typeof DutyContactSchema>;

/** Alarm kinds whose notifications storm control groups by default: a power cut, a bad batch. */
const DEFAULT_STORM_KINDS: AlarmKindConfig[] = ['offline', 'fault', 'maintenance'];
type AlarmKindConfig = (typeof ALARM_KINDS)[number];

/**
 * Notifications (issue 15, SPEC §12) beyond the channels: the household chain, the duty
 * contacts of areas, languages, the console's address, the hourly cap per contact and storm
 * control. docs/notifications.md explains each.
 */
export const NotifyConfigSchema = z
  .object({
    consoleUrl: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe(
        "The console's public address (https://duty.example.org/console/): messages link the alarm's card; none without it",
      ),
    lang: z
      .enum(['zh-CN', 'en'])
      .default('zh-CN')
      .describe('Language of messages to contacts that name none'),
    smsSign: z
      .object({ 'zh-CN': z.string().min(1).max(16), en: z.string().min(1).max(16) })
      .strict()
      .default({ 'zh-CN': '燃气安全', en: 'Gas Safety' })
      .describe(
        'Sign written before SMS texts of channels that add none of their own (twilio-sms, log); Alibaba and Tencent add their signName',
      ),
    maxPerContactHour: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(20)
      .describe(
        'Most messages one person (by address) receives an hour; more are recorded as capped and not sent (webhooks are not counted)',
      ),
    maxInFlight: z
      .number()
      .int()
      .min(1)
      .max(4096)
      .default(256)
      .describe(
        'Requests one channel has under way at once, and connections it keeps to its provider; more wait their turn. 256 sends a 1 000-alarm storm within a second to a provider answering in 50 ms; a provider that throttles answers retryable errors, retried',
      ),
    household: z
      .object({
        steps: z
          .array(TierSchema)
          .max(16)
          .default([])
          .describe(
            "The chain of an alarm whose detector is in a registered household, instead of its site's (none: the site's)",
          ),
        repeatS: RepeatSchema,
      })
      .strict()
      .default({ steps: [] }),
    duty: z
      .record(AreaIdSchema, z.array(DutyContactSchema).max(16))
      .default({})
      .describe(
        'Duty contacts by area id (a village, a township, a county): the steps with `duty` tell them',
      ),
    storm: z
      .object({
        kinds: z
          .array(z.enum(ALARM_KINDS))
          .default(DEFAULT_STORM_KINDS)
          .describe('Alarm kinds whose notifications are grouped (default: offline, fault, maintenance)'),
        windowS: z
          .number()
          .min(1)
          .max(600)
          .default(30)
          .describe('Seconds a notification of those kinds waits for others of its kind and area'),
        minAlarms: z
          .number()
          .int()
          .min(2)
          .max(10_000)
          .default(2)
          .describe('Alarms of one kind and area within the window that a contact is told of in one message'),
      })
      .strict()
      .default({ kinds: DEFAULT_STORM_KINDS, windowS: 30, minAlarms: 2 })
      .describe('Storm control: many alarms of one kind in one area at once → one message per contact'),
    evacuation: z
      .object({
        channels: z
          .array(z.string().min(1).max(64))
          .max(8)
          .default([])
          .describe(
            "Channels, in failover order, that tell a stopped permit's attendant and applicant to evacuate (by their mobile numbers on the permit). Empty: the channels of the first step of the permit's site's chain",
          ),
      })
      .strict()
      .default({ channels: [] })
      .describe(
        "A stopped permit's evacuation alert (issue 14): to its attendant and applicant, and to the first step of its site's chain",
      ),
  })
  .strict();
export type NotifyConfig = z.infer<typeof NotifyConfigSchema>;

export const LocationSchema = z
  .object({
    lat: z.number().min(-90).max(90).describe('Latitude, degrees north (WGS-84)'),
    lon: z.number().min(-180).max(180).describe('Longitude, degrees east (WGS-84)'),
  })
  .strict();

/**
 * The console map's tiles: any XYZ server by URL template (AMap, Tianditu, OpenStreetMap, a site's
 * own tile server). Without it the console draws the same markers on a plain plan.
 */
export const MapConfigSchema = z
  .object({
    tiles: z
      .string()
      .max(1024)
      .regex(/^https?:\/\/.*\{z\}.*\{x\}.*\{y\}|^https?:\/\/.*\{z\}.*\{y\}.*\{x\}/, {
        message:
          'must be an http(s) URL template with {z}, {x} and {y}, e.g. https://tile.example/{z}/{x}/{y}.png',
      })
      .describe('XYZ tile URL template; {s} picks one of `subdomains`'),
    subdomains: z
      .array(z.string().min(1).max(16))
      .max(16)
      .optional()
      .describe('Values of {s}, e.g. ["1","2","3","4"]'),
    attribution: z.string().max(512).default('').describe('Shown in the corner, as the tile licence asks'),
    maxZoom: z.number().int().min(1).max(22).default(18),
    datum: z
      .enum(['wgs84', 'gcj02'])
      .default('wgs84')
      .describe(
        'Coordinates the tiles are drawn in: gcj02 for AMap and Tencent tiles (sites are kept in WGS-84 and shifted for display), wgs84 for Tianditu and OpenStreetMap',
      ),
  })
  .strict();
export type MapConfig = z.infer<typeof MapConfigSchema>;

export const SiteSchema = z
  .object({
    name: z.string().max(256).optional().describe('Human name of the site'),
    type: SiteTypeSchema.optional().describe(
      'household (a home: combustible first alarm 10 %LEL) or workplace; defaults.siteType when absent',
    ),
    coStandard: CoStandardSchema.optional().describe(
      'CO standard of household-co detectors here; defaults.coStandard when absent',
    ),
    household: RemovedHousehold('"type: household" if the site is a home'),
    area: AreaIdSchema.optional().describe(
      'Area (village, community, township…) the site lies in: who may see its devices and alarms (SPEC §9)',
    ),
    address: z.string().max(512).optional().describe('Street address, as the duty room reads it out'),
    location: LocationSchema.optional().describe(
      'Where it is on the console map (WGS-84, as a GPS gives it)',
    ),
    ackTimeout: PartialAckTimeoutSchema.optional().describe(
      'Per-site escalation delays; missing severities use defaults.ackTimeout',
    ),
    steps: z
      .array(TierSchema)
      .max(16)
      .default([])
      .describe('Escalation chain: step 1 at once, the next after each wait, the top one repeated'),
    tiers: z
      .array(TierSchema)
      .max(16)
      .default([])
      .describe(
        'The chain as configs before issue 15 wrote it: the same steps; the top one repeats as with steps (repeatS: false tells it once)',
      ),
    repeatS: RepeatSchema,
    alarms: z
      .partialRecord(z.enum(['household-co', 'multigas', 'combustible']), AlarmOverrideSchema)
      .default({})
      .describe('Alarm profile overrides per device kind for this site'),
    permits: SitePermitRulesSchema.optional().describe(
      'Permit rules of the site (SPEC §7, docs/permits.md): the rule set and the numbers it tightens; replaces defaults.permits as a whole',
    ),
  })
  .strict();
export type Site = z.infer<typeof SiteSchema>;

/**
 * How the server runs permits where the rule sets leave it open (docs/permits.md "Workflow"):
 * how long a detector is held at a test position when the tester names no response time, and
 * how often monitoring records are kept when the rule set sets no interval.
 */
export const PermitServerConfigSchema = z
  .object({
    responseTimeS: z
      .number()
      .positive()
      .max(600)
      .default(30)
      .describe(
        'T90 of a test detector with its sampling line when the test names none, s: a reading counts this long after the detector is placed',
      ),
    recordEveryMin: z
      .number()
      .positive()
      .max(1440)
      .default(30)
      .describe(
        'Longest gap between monitoring records where the rule set sets none (GB 30871 sets 120 min for confined spaces), min',
      ),
    sweepS: z
      .number()
      .positive()
      .max(3600)
      .default(15)
      .describe(
        'How often the server expires permits past their validity and checks monitoring detectors, s',
      ),
  })
  .strict();
export type PermitServerConfig = z.infer<typeof PermitServerConfigSchema>;

export const DeviceOverrideSchema = AlarmOverrideSchema.extend({
  site: z.string().max(128).optional().describe('Site to use when the device does not report one'),
}).strict();

/** The procedure's words in each language the console speaks. */
const TextSchema = z
  .object({
    'zh-CN': z.string().min(1).max(4000),
    en: z.string().min(1).max(4000),
  })
  .strict();

/**
 * What the duty room does for one kind of alarm (SPEC §13): shown on the response card. The
 * fields it names must all match; among those that do, the one naming the most wins, and a
 * configured one wins over a built-in one naming as many.
 */
export const ProcedureSchema = z
  .object({
    kind: z.enum(ALARM_KINDS).describe('gas | detector | offline | fault | maintenance'),
    gases: z.array(GasIdSchema).min(1).optional().describe('Only alarms of these gases'),
    severity: z.enum(['warning', 'critical']).optional(),
    siteType: SiteTypeSchema.optional().describe("Only at sites of this type (the site's `type`)"),
    text: TextSchema.describe('Numbered steps, one per line, in both languages'),
  })
  .strict();
export type Procedure = z.infer<typeof ProcedureSchema>;

/**
 * When the weekly ledger (SPEC §10) is made and what "cumulative" counts from. A ledger week is
 * the 7 local days (TIME_ZONE) starting on `weekday`; the run at `weekday` `time` makes the
 * ledger of the week that ended at midnight before it (Friday 16:00: last Friday to Thursday).
 */
export const LedgerConfigSchema = z
  .object({
    weekday: z
      .number()
      .int()
      .min(1)
      .max(7)
      .default(5)
      .describe(
        'Day of the scheduled run and first day of a ledger week, ISO: 1 Monday … 5 Friday … 7 Sunday',
      ),
    time: z
      .string()
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a local time HH:MM, e.g. 16:00')
      .default('16:00')
      .describe('Local time (TIME_ZONE) of the scheduled run, HH:MM'),
    campaignStart: DaySchema.optional().describe(
      'First day of the campaign: cumulative figures count from it (absent: from the first record)',
    ),
  })
  .strict();
export type LedgerConfig = z.infer<typeof LedgerConfigSchema>;

export const GaswatchConfigSchema = z
  .object({
    defaults: z
      .object({
        coStandard: CoStandardSchema.default('en50291').describe(
          'CO standard of household-co detectors where a site names none',
        ),
        siteType: SiteTypeSchema.default('workplace').describe('Type of a site that names none'),
        household: RemovedHousehold('"siteType: household" if most sites are homes'),
        ackTimeout: AckTimeoutSchema.default({ critical: 120, warning: 600 }),
        vulnerableAckTimeout: z
          .partialRecord(
            z.enum(VULNERABLE_FLAGS as [OccupantFlag, ...OccupantFlag[]]),
            PartialAckTimeoutSchema,
          )
          .default(DEFAULT_VULNERABLE_ACK_TIMEOUT)
          .describe(
            "Shorter escalation delays for an alarm in a registered home with this occupant (issue 13): the shortest of these, the site's and the default applies. Default: 60 s critical, 300 s warning for an elderly person living alone, a bedridden or a disabled occupant (nobody there to get out by themselves); {} turns it off",
          ),
        steps: z
          .array(TierSchema)
          .max(16)
          .default([])
          .describe('Escalation chain for devices whose site is not configured or has none'),
        tiers: z
          .array(TierSchema)
          .max(16)
          .default([])
          .describe(
            'The default chain as configs before issue 15 wrote it (its top step repeats; repeatS: false tells it once)',
          ),
        repeatS: RepeatSchema,
        permits: SitePermitRulesSchema.default({ ruleSet: 'gb30871' }).describe(
          'Permit rules of spaces and hot work whose site names none (GB 30871-2022 unless set)',
        ),
      })
      .strict()
      .default({
        coStandard: 'en50291',
        siteType: 'workplace',
        ackTimeout: { critical: 120, warning: 600 },
        vulnerableAckTimeout: DEFAULT_VULNERABLE_ACK_TIMEOUT,
        steps: [],
        tiers: [],
        permits: { ruleSet: 'gb30871' },
      })
      .describe('Used where a site says nothing'),
    sites: z
      .record(z.string().min(1).max(128), SiteSchema)
      .default({})
      .describe('Sites by the id devices report in DeviceState.site'),
    devices: z
      .record(IdSchema, DeviceOverrideSchema)
      .default({})
      .describe('Alarm profile overrides per device id (win over site overrides)'),
    channels: z
      .record(z.string().min(1).max(64), ChannelConfigSchema)
      .default({})
      .describe('Notification channels by name; contacts refer to them'),
    notify: NotifyConfigSchema.default({
      lang: 'zh-CN',
      smsSign: { 'zh-CN': '燃气安全', en: 'Gas Safety' },
      maxPerContactHour: 20,
      maxInFlight: 256,
      household: { steps: [] },
      duty: {},
      storm: { kinds: DEFAULT_STORM_KINDS, windowS: 30, minAlarms: 2 },
      evacuation: { channels: [] },
    }).describe(
      'The household chain, duty contacts of areas, languages, console link, hourly cap, storm control',
    ),
    map: MapConfigSchema.optional().describe('Tiles of the console map (a plain plan without)'),
    advisories: z
      .object({
        grades: z
          .number()
          .int()
          .min(2)
          .max(9)
          .default(4)
          .describe("Grades of the meteorological service's CO-poisoning weather scale (GB/T 34295: 4 or 5)"),
        bannerFrom: z
          .number()
          .int()
          .min(1)
          .max(9)
          .default(3)
          .describe('A grade at or above this puts a banner on every console of the area'),
      })
      .strict()
      .default({ grades: 4, bannerFrom: 3 })
      .describe(
        'CO weather advisories as the meteorological service grades them; gaswatch computes no grade',
      ),
    ledger: LedgerConfigSchema.default({ weekday: 5, time: '16:00' }).describe(
      'The weekly ledger of the CO-prevention campaign: when it is made, from when it counts',
    ),
    permits: PermitServerConfigSchema.default({ responseTimeS: 30, recordEveryMin: 30, sweepS: 15 }).describe(
      'How the server runs permits where the rule sets leave it open',
    ),
    maintenance: z
      .object({
        remindDays: z
          .number()
          .int()
          .min(0)
          .max(365)
          .default(DEFAULT_REMIND_DAYS)
          .describe(
            'Days before a calibration, a sensor end of life or a household alarm expiry falls due that it is listed as due (GET /api/maintenance/due, the device page)',
          ),
      })
      .strict()
      .default({ remindDays: DEFAULT_REMIND_DAYS })
      .describe('Detector maintenance (SPEC §11): how far ahead dates are reminded of'),
    fold: z
      .object({
        windowS: z
          .number()
          .int()
          .min(1)
          .max(3600)
          .default(30)
          .describe(
            'Seconds within which devices of one area that go silent count together (a power cut); a silent device with an area waits this long for others before its own offline alarm',
          ),
        minDevices: z
          .number()
          .int()
          .min(0)
          .max(1_000_000)
          .default(10)
          .describe(
            'Silent devices of one area within the window that make one area alarm instead of one each; 0 turns area folding off',
          ),
        gatewayTimeoutS: z
          .number()
          .int()
          .min(0)
          .max(86_400)
          .default(90)
          .describe(
            "Seconds without a status or a reading from a gateway that has sent a status before it counts as offline (3 × the gateway's default statusIntervalS); 0: only its will or status online:false",
          ),
        faultWindowS: z
          .number()
          .int()
          .min(1)
          .max(600)
          .default(10)
          .describe(
            "Seconds a detector's fault waits for others of its gateway or area with the same fault code before its own fault alarm (raised at the time it reported the fault)",
          ),
        faultMinDevices: z
          .number()
          .int()
          .min(0)
          .max(1_000_000)
          .default(10)
          .describe(
            'Detectors of one gateway (or one area) with the same fault within faultWindowS that make one fault-burst alarm instead of one each; 0 turns fault folding off (every fault alarm at once)',
          ),
      })
      .strict()
      .default({ windowS: 30, minDevices: 10, gatewayTimeoutS: 90, faultWindowS: 10, faultMinDevices: 10 })
      .describe(
        'Storms fold (issue 18): a gateway outage is one alarm, a power cut of one area is one alarm, a burst of one fault is one alarm',
      ),
    procedures: z
      .array(ProcedureSchema)
      .max(200)
      .default([])
      .describe(
        'Response procedures shown on the alarm card, per alarm kind (and gas, severity, site type); they win over the built-in ones (server/src/alarms/procedures.ts)',
      ),
    users: z
      .never({
        error:
          '"users" is no longer read: accounts live in the database now, with a password and a role. Create the first admin with "gaswatch-server admin create NAME", the others in the console or with POST /api/users (docs/security.md)',
      })
      .optional(),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const known = (name: string, path: (string | number)[]) => {
      if (!(name in cfg.channels))
        ctx.addIssue({
          code: 'custom',
          path,
          message: `unknown channel "${name}" (known: ${Object.keys(cfg.channels).join(', ') || 'none'})`,
        });
    };
    const check = (steps: Tier[], path: (string | number)[]) => {
      for (const [i, t] of steps.entries()) {
        for (const [k, name] of (t.channels ?? []).entries()) known(name, [...path, i, 'channels', k]);
        for (const [j, c] of t.contacts.entries()) {
          if (c.channel !== undefined) known(c.channel, [...path, i, 'contacts', j, 'channel']);
          for (const [k, name] of (c.channels ?? []).entries())
            known(name, [...path, i, 'contacts', j, 'channels', k]);
        }
      }
    };
    const both = (o: { steps: Tier[]; tiers: Tier[] }, path: (string | number)[]) => {
      if (o.steps.length > 0 && o.tiers.length > 0)
        ctx.addIssue({
          code: 'custom',
          path: [...path, 'tiers'],
          message: 'give steps or tiers (the older name), not both',
        });
    };
    check(cfg.defaults.steps, ['defaults', 'steps']);
    check(cfg.defaults.tiers, ['defaults', 'tiers']);
    both(cfg.defaults, ['defaults']);
    for (const [id, site] of Object.entries(cfg.sites)) {
      check(site.steps, ['sites', id, 'steps']);
      check(site.tiers, ['sites', id, 'tiers']);
      both(site, ['sites', id]);
    }
    check(cfg.notify.household.steps, ['notify', 'household', 'steps']);
    for (const [k, name] of cfg.notify.evacuation.channels.entries())
      known(name, ['notify', 'evacuation', 'channels', k]);
    for (const [area, contacts] of Object.entries(cfg.notify.duty))
      for (const [j, c] of contacts.entries())
        for (const [k, name] of (c.channels ?? []).entries())
          known(name, ['notify', 'duty', area, j, 'channels', k]);
    // Rule options the shared rule sets refuse: found here, at start, before anything opens. Options
    // the fields above already refused (hysteresis ≥ 1, say) are not reported a second time.
    const reported = ctx.issues.map((i) => (i.path ?? []).join('.'));
    for (const issue of ruleConfigIssues(cfg)) {
      const at = issue.path.join('.');
      if (!reported.some((p) => p === at || p.startsWith(`${at}.`)))
        ctx.addIssue({ code: 'custom', ...issue });
    }
  });
export type GaswatchConfig = z.infer<typeof GaswatchConfigSchema>;
