import { type AlarmKind, GAS_NAMES_ZH, type GasId, type OccupantFlag } from '@gaswatch/shared';
import { ZoneClock } from '../zone.js';
import type { Medium } from './provider.js';
import { smsCapacity, smsLength } from './sms-length.js';

/**
 * What each notification says (issue 15): one text per medium (SMS, voice, e-mail, work chat,
 * webhook), kind of alarm and language, made from the alarm's facts, and the same facts as named
 * parameters for the providers that send only approved templates (Alibaba Cloud, Tencent Cloud).
 * The Chinese is written as a township duty officer writes it:
 * 【燃气安全】柳江村3组12号（王秀英，独居老人）卧室一氧化碳 400ppm 报警，请立即开窗、撤离并回复1确认。
 * Long (~630 lines) because it holds both languages' words side by side, which a translator
 * reads together; the rendering itself is the last third.
 */

export type Lang = 'zh-CN' | 'en';

/** One alarm, as a person is told of it. */
export interface AlarmFacts {
  alarmId: string;
  kind: AlarmKind;
  severity: 'warning' | 'critical';
  gas?: GasId | undefined;
  value: number;
  threshold: number;
  unit?: string | undefined;
  /** The engine's own words (English): what a fault or a failed bump test was. */
  message: string;
  /** Event time of the raise. */
  raisedAt: number;
  device: string;
  /** The household's address, else the site's address or name; null when only the device is known. */
  place: string | null;
  /** The first occupant's name (the household's first contact who lives there). */
  occupant: string | null;
  /** The vulnerable occupants' flags, in the board's order. */
  flags: readonly OccupantFlag[];
  /** Where in the home or site the detector is (卧室, kitchen). */
  location: string | null;
  /** The alarm's response card in the console, when the console's public address is configured. */
  link: string | null;
  /**
   * A folded alarm (issue 18): the detectors it stands for, behind one gateway or in one area
   * (`device` is then the gateway or area id; `name` the area's name where it has one), and for
   * a fault burst the fault they share.
   */
  fold?:
    | { scope: 'gateway' | 'area'; count: number; fault?: string | undefined; name?: string | undefined }
    | undefined;
}

/** Many alarms of one kind in one area at once (storm control): one message for all of them. */
export interface GroupFacts {
  kind: AlarmKind;
  count: number;
  /** The area's name (柳江村), else the place of the first alarm. */
  place: string;
  /** Event time of the first alarm of the group. */
  since: number;
  /** The alarm board in the console. */
  link: string | null;
}

export interface RenderOptions {
  medium: Medium;
  lang: Lang;
  /** IANA zone the times are written in (TIME_ZONE). */
  timeZone: string;
  /**
   * The SMS sign name: Alibaba Cloud and Tencent Cloud put their approved 【sign】 before every
   * message (and count it in its length), so the text shows it; Twilio sends the text as it is,
   * so the sign is written into it. None: no sign.
   */
  sign?: string | null | undefined;
  /** An SMS is kept to this many segments (default 2): the least needed parts are cut first. */
  maxSegments?: number | undefined;
  /** A template parameter is cut to this many characters (default 35). */
  paramMaxChars?: number | undefined;
}

export interface RenderedMessage {
  /** The whole text: what an SMS, e-mail body or chat message says, or a call reads out. */
  text: string;
  /** E-mail subject, chat title. */
  subject?: string;
  /** The facts as template parameters (see PARAM_NAMES), each cut to paramMaxChars. */
  params: Record<string, string>;
  /** SMS segments the text takes (SMS only). */
  segments?: number;
  /** What was left out or shortened to keep within the length rules (empty: nothing). */
  cut: string[];
}

/**
 * The parameter names a provider template may use (GASWATCH_CONFIG `channels.<name>.templates`):
 * household — address and occupants (柳江村3组12号（王秀英，独居老人）); address; occupants
 * (王秀英，独居老人); location (卧室); gas (一氧化碳); value (400ppm); event (卧室一氧化碳 400ppm
 * 报警); kind (一氧化碳报警, 设备离线); time (08:03, local); link (the console's card); count (1,
 * or the alarms of a grouped message); device.
 */
export const PARAM_NAMES = [
  'household',
  'address',
  'occupants',
  'location',
  'gas',
  'value',
  'event',
  'kind',
  'time',
  'link',
  'count',
  'device',
] as const;

/** Default character limit of a template parameter: Alibaba Cloud's for an "other" variable. */
export const DEFAULT_PARAM_MAX_CHARS = 35;
/** Longest text a call reads out: about 40 s of speech, within every provider's limit. */
export const VOICE_MAX_CHARS = 150;

const COMBUSTIBLE: readonly GasId[] = ['LEL', 'CH4', 'C3H8'];

/** A value as people write it: 400, 18.5, 0.25 (at most two decimals, no trailing zeros). */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return String(Math.round(v * 100) / 100);
}

/** A space before or after a Chinese character or full-width punctuation. */
const CJK_SPACE =
  /(?<=[\u2e80-\u9fff\u3000-\u303f\uff00-\uffef]) | (?=[\u2e80-\u9fff\u3000-\u303f\uff00-\uffef])/g;
/** Spaces next to a Chinese character dropped: "柳江村 3 组 12 号" → "柳江村3组12号". */
export function compactCjk(text: string): string {
  return text.trim().replace(/\s+/g, ' ').replace(CJK_SPACE, '');
}

/** At most `max` characters (code points), ending in "…" when cut. */
export function cutChars(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

// ------------------------------------------------------------------------------ words

interface Words {
  flags: Record<OccupantFlag, string>;
  gas: Record<GasId, string>;
  sign(name: string): string;
  /** Address with who lives there: 柳江村3组12号（王秀英，独居老人）. */
  who(place: string, occupants: string): string;
  occupants(name: string | null, flags: string[]): string;
  /** What happened, e.g. 卧室一氧化碳 400ppm 报警 (time: the raise's local time, when kept). */
  event(f: AlarmFacts, time: string | null): string;
  /** Where a folded alarm is: 网关 gw-7, 片区 town-a (in place of a household's address). */
  foldPlace(f: AlarmFacts & { fold: NonNullable<AlarmFacts['fold']> }): string;
  /** What to do, ending with how to acknowledge by reply. */
  action(f: AlarmFacts): string;
  /** What to do, for a medium nobody replies on (e-mail, chat). */
  actionNoReply(f: AlarmFacts): string;
  /** What stands between the sentence and the link (a Chinese full stop needs no space). */
  linkGap: string;
  link(url: string): string;
  kind(f: Pick<AlarmFacts, 'kind' | 'gas'>): string;
  subject(f: AlarmFacts, who: string): string;
  spoken(f: AlarmFacts, place: string, occupants: string): string;
  lines(f: AlarmFacts, who: string, time: string, link: string | null, replies: boolean): string[];
  group: {
    event(g: GroupFacts, time: string | null): string;
    action(g: GroupFacts, replies: boolean): string;
    subject(g: GroupFacts): string;
    spoken(g: GroupFacts): string;
  };
}

const unitOf = (f: Pick<AlarmFacts, 'unit'>) => f.unit ?? '';

const zh: Words = {
  flags: {
    elderly_alone: '独居老人',
    bedridden: '卧床',
    disabled: '残疾人',
    infant: '婴幼儿',
    left_behind_child: '留守儿童',
    elderly: '老人',
    migrant: '外来务工',
  },
  gas: GAS_NAMES_ZH,
  sign: (name) => `【${name}】`,
  who: (place, occupants) => (occupants === '' ? place : `${place}（${occupants}）`),
  occupants: (name, flags) => [name, flags.join('、')].filter((s) => s !== null && s !== '').join('，'),
  // An area by its name (柳江村内300台…); by its id only where it has none (片区tw-a内300台…).
  foldPlace: (f) => f.fold.name ?? `${f.fold.scope === 'gateway' ? '网关' : '片区'}${f.device}`,
  event(f, time) {
    const at = f.location ?? '';
    const when = time === null ? '' : `（${time}）`;
    if (f.fold !== undefined) {
      // After the place: 网关gw-7下200台报警器08:02起离线 / 片区town-a内300台报警器同一故障（comm_error）.
      const n = `${f.fold.scope === 'gateway' ? '下' : '内'}${f.fold.count}台报警器`;
      return f.fold.fault !== undefined
        ? `${n}同一故障（${f.fold.fault}）${when}`
        : `${n}${time === null ? '' : `${time}起`}${f.fold.scope === 'gateway' ? '' : '同时'}离线`;
    }
    switch (f.kind) {
      case 'offline':
        return `${at}报警器${time === null ? '' : `${time}起`}离线`;
      case 'fault':
        return `${at}报警器故障${when}`;
      case 'maintenance':
        return `${at}报警器气体测试未通过${when}`;
      case 'detector':
        return `${at}报警器鸣响报警${when}`;
      default: {
        const gas = f.gas === undefined ? '气体' : zh.gas[f.gas];
        return `${at}${gas} ${formatValue(f.value)}${unitOf(f)} ${f.severity === 'critical' ? '报警' : '预警'}${when}`;
      }
    }
  },
  action(f) {
    // 勿开关电器 first: the one thing said against instinct (a light switch sparks).
    if (f.kind === 'gas' && f.gas !== undefined && COMBUSTIBLE.includes(f.gas))
      return '勿开关电器，请立即关阀、开窗、撤离并回复1确认。';
    return `${zh.actionNoReply(f).replace(/。$/, '')}并回复1确认。`;
  },
  actionNoReply(f) {
    if (f.fold !== undefined)
      return f.fold.fault !== undefined ? '请查总线、供电或近期固件升级。' : '可能停电或断网，请核实。';
    switch (f.kind) {
      case 'offline':
        return '请联系住户或上门查看。';
      case 'fault':
        return '请安排检修。';
      case 'maintenance':
        return '请安排校准或更换。';
      default:
        if (f.gas !== undefined && COMBUSTIBLE.includes(f.gas)) return '请立即关阀、开窗、撤离，勿开关电器。';
        if (f.gas === 'CO' || f.kind === 'detector')
          return f.severity === 'critical' ? '请立即开窗、撤离。' : '请开窗通风、检查炉具。';
        return '请立即撤离现场。';
    }
  },
  linkGap: '',
  link: (url) => `详情 ${url}`,
  kind(f) {
    switch (f.kind) {
      case 'offline':
        return '设备离线';
      case 'fault':
        return '设备故障';
      case 'maintenance':
        return '测试未通过';
      case 'detector':
        return '报警器报警';
      default:
        return `${f.gas === undefined ? '气体' : zh.gas[f.gas]}报警`;
    }
  },
  subject: (f, who) => `【燃气报警】${who}${zh.event(f, null)}`,
  spoken(f, place, occupants) {
    const home = occupants === '' ? `${place}。` : `${place}，${occupants}。`;
    if (f.fold !== undefined) return `燃气安全提醒。${place}${zh.event(f, null)}。${zh.actionNoReply(f)}`;
    let what: string;
    switch (f.kind) {
      case 'offline':
        what = `${f.location ?? ''}报警器已离线`;
        break;
      case 'fault':
        what = `${f.location ?? ''}报警器故障`;
        break;
      case 'maintenance':
        what = `${f.location ?? ''}报警器气体测试未通过`;
        break;
      case 'detector':
        what = `${f.location ?? ''}报警器正在报警`;
        break;
      default: {
        const gas = f.gas === undefined ? '气体' : zh.gas[f.gas];
        // Said, not read: "%LEL" means nothing on the phone.
        const level =
          f.unit === '%LEL'
            ? `达到爆炸下限的百分之${formatValue(f.value)}`
            : `${formatValue(f.value)}${f.unit === 'ppm' ? ' ppm' : unitOf(f)}`;
        what = `${f.location ?? ''}${gas}浓度${level}`;
      }
    }
    const opening = f.kind === 'gas' || f.kind === 'detector' ? '燃气安全报警。' : '燃气安全提醒。';
    return `${opening}${home}${what}。${zh.actionNoReply(f)}`;
  },
  lines(f, who, time, link, replies) {
    const out = [`${who}${zh.event(f, null)}。`];
    if (f.kind === 'gas')
      out.push(
        `检测值：${formatValue(f.value)} ${unitOf(f)}（报警值 ${formatValue(f.threshold)} ${unitOf(f)}）`,
      );
    else if ((f.kind === 'fault' && f.fold === undefined) || f.kind === 'maintenance')
      out.push(`情况：${f.message}`);
    out.push(`报警时间：${time}`);
    if (f.fold === undefined) out.push(`设备：${f.device}${f.location === null ? '' : ` · ${f.location}`}`);
    out.push(`处置：${zh.actionNoReply(f)}`);
    if (link !== null) out.push(`处置页面：${link}`);
    out.push(replies ? '回复短信“1”或在平台上确认报警。' : '请在平台上确认报警。');
    return out;
  },
  group: {
    event(g, time) {
      const what: Record<AlarmKind, string> = {
        offline: '离线',
        fault: '故障',
        maintenance: '气体测试未通过',
        detector: '报警',
        gas: '浓度报警',
      };
      return `${g.place}${g.count}台报警器${time === null ? '' : `${time}起`}${what[g.kind]}`;
    },
    action(g, replies) {
      const what: Record<AlarmKind, string> = {
        offline: '可能停电或断网，请核实',
        fault: '请安排检修',
        maintenance: '请安排校准',
        detector: '请立即组织查看',
        gas: '请立即组织查看',
      };
      return `${what[g.kind]}${replies ? '并回复1确认。' : '。'}`;
    },
    subject: (g) => `【燃气报警】${zh.group.event(g, null)}`,
    spoken: (g) => `燃气安全提醒。${zh.group.event(g, null)}。${zh.group.action(g, false)}`,
  },
};

const en: Words = {
  flags: {
    elderly_alone: 'elderly living alone',
    bedridden: 'bedridden',
    disabled: 'disabled',
    infant: 'infant',
    left_behind_child: 'child left behind',
    elderly: 'elderly',
    migrant: 'migrant worker',
  },
  gas: { CO: 'CO', H2S: 'H2S', O2: 'O2', CH4: 'methane', C3H8: 'propane', LEL: 'gas', CO2: 'CO2' },
  sign: (name) => `[${name}] `,
  who: (place, occupants) => (occupants === '' ? place : `${place} (${occupants})`),
  occupants: (name, flags) => [name, flags.join(', ')].filter((s) => s !== null && s !== '').join(', '),
  foldPlace: (f) => f.fold.name ?? `${f.fold.scope === 'gateway' ? 'gateway' : 'area'} ${f.device}`,
  event(f, time) {
    const at = f.location === null ? '' : ` in ${f.location}`;
    const when = time === null ? '' : ` at ${time}`;
    if (f.fold !== undefined) {
      const n = `${f.fold.count} detectors${f.fold.scope === 'gateway' ? ' behind it' : ''}`;
      const together = f.fold.scope === 'area' ? ' at once' : '';
      return f.fold.fault !== undefined
        ? `${n} with the same fault (${f.fold.fault})${together}${when}`
        : `${n} offline${together}${time === null ? '' : ` since ${time}`}`;
    }
    switch (f.kind) {
      case 'offline':
        return `detector${at} offline${time === null ? '' : ` since ${time}`}`;
      case 'fault':
        return `detector${at} fault${when}`;
      case 'maintenance':
        return `detector${at} failed its gas test${when}`;
      case 'detector':
        return `detector${at} sounding${when}`;
      default: {
        const gas = f.gas === undefined ? 'gas' : en.gas[f.gas];
        const level = f.severity === 'critical' ? 'ALARM' : 'warning';
        return `${gas} ${formatValue(f.value)} ${unitOf(f)} ${level}${at}${when}`.replace(/ {2,}/g, ' ');
      }
    }
  },
  action(f) {
    return `${en.actionNoReply(f)} Reply 1 to acknowledge.`;
  },
  actionNoReply(f) {
    if (f.fold !== undefined)
      return f.fold.fault !== undefined
        ? 'Check its bus, power or firmware.'
        : 'Power or network cut? Check.';
    switch (f.kind) {
      case 'offline':
        return 'Call the household or go and check.';
      case 'fault':
        return 'Arrange a repair.';
      case 'maintenance':
        return 'Arrange a calibration or replacement.';
      default:
        if (f.gas !== undefined && COMBUSTIBLE.includes(f.gas))
          return 'Shut the gas valve, open windows, get out; no switches, no flames.';
        if (f.gas === 'CO' || f.kind === 'detector')
          return f.severity === 'critical' ? 'Open windows and get out now.' : 'Air the room, check stoves.';
        return 'Leave the place now.';
    }
  },
  linkGap: ' ',
  link: (url) => `Details: ${url}`,
  kind(f) {
    switch (f.kind) {
      case 'offline':
        return 'detector offline';
      case 'fault':
        return 'detector fault';
      case 'maintenance':
        return 'gas test failed';
      case 'detector':
        return 'detector alarm';
      default:
        return `${f.gas === undefined ? 'gas' : en.gas[f.gas]} alarm`;
    }
  },
  subject: (f, who) => `[Gas alarm] ${who}: ${en.event(f, null)}`,
  spoken(f, place, occupants) {
    const home = occupants === '' ? `${place}.` : `${place}, ${occupants}.`;
    if (f.fold !== undefined)
      return `Gas safety notice. ${place}: ${en.event(f, null)}. ${en.actionNoReply(f)}`;
    const what =
      f.kind === 'gas'
        ? `${f.gas === undefined ? 'Gas' : en.gas[f.gas]} at ${formatValue(f.value)} ${f.unit === '%LEL' ? 'percent of the lower explosive limit' : unitOf(f)}${f.location === null ? '' : ` in the ${f.location}`}.`
        : `The detector${f.location === null ? '' : ` in the ${f.location}`} ${f.kind === 'offline' ? 'is offline' : f.kind === 'fault' ? 'has a fault' : f.kind === 'maintenance' ? 'failed its gas test' : 'is sounding'}.`;
    const opening = f.kind === 'gas' || f.kind === 'detector' ? 'Gas safety alarm.' : 'Gas safety notice.';
    return `${opening} ${home} ${what} ${en.actionNoReply(f)}`;
  },
  lines(f, who, time, link, replies) {
    const out = [`${who}: ${en.event(f, null)}.`];
    if (f.kind === 'gas')
      out.push(
        `Reading: ${formatValue(f.value)} ${unitOf(f)} (set point ${formatValue(f.threshold)} ${unitOf(f)})`,
      );
    else if ((f.kind === 'fault' && f.fold === undefined) || f.kind === 'maintenance')
      out.push(`What: ${f.message}`);
    out.push(`Raised at: ${time}`);
    // A folded alarm's place (gateway gw-7, area town-a) is in the first line already.
    if (f.fold === undefined)
      out.push(`Detector: ${f.device}${f.location === null ? '' : ` · ${f.location}`}`);
    out.push(`What to do: ${en.actionNoReply(f)}`);
    if (link !== null) out.push(`Response card: ${link}`);
    out.push(replies ? 'Reply 1 by SMS or acknowledge in the console.' : 'Acknowledge in the console.');
    return out;
  },
  group: {
    event(g, time) {
      const what: Record<AlarmKind, string> = {
        offline: 'offline',
        fault: 'with a fault',
        maintenance: 'failed their gas test',
        detector: 'sounding',
        gas: 'in gas alarm',
      };
      return `${g.count} detectors ${what[g.kind]} in ${g.place}${time === null ? '' : ` since ${time}`}`;
    },
    action(g, replies) {
      const what: Record<AlarmKind, string> = {
        offline: 'Power or network cut? Check.',
        fault: 'Arrange repairs.',
        maintenance: 'Arrange calibrations.',
        detector: 'Send someone to look now.',
        gas: 'Send someone to look now.',
      };
      return `${what[g.kind]}${replies ? ' Reply 1 to acknowledge.' : ''}`;
    },
    subject: (g) => `[Gas alarm] ${en.group.event(g, null)}`,
    spoken: (g) => `Gas safety notice. ${en.group.event(g, null)}. ${en.group.action(g, false)}`,
  },
};

const WORDS: Record<Lang, Words> = { 'zh-CN': zh, en };

// ------------------------------------------------------------------------------ rendering

/** A piece of an SMS; optional ones are left out, in `drop` order, when the text is too long. */
export interface Piece {
  key: string;
  text: string;
  /** Left out from the lowest up; absent: always kept. */
  drop?: number;
}

/**
 * Joins the pieces, leaving out the optional ones (lowest `drop` first) until the text fits
 * `fits`; if it still does not, the piece named `shorten` is cut. Returns the text and what went.
 */
export function fit(
  pieces: Piece[],
  fits: (text: string) => boolean,
  shorten: string,
): { text: string; cut: string[] } {
  const cut: string[] = [];
  let kept = [...pieces];
  const join = () => kept.map((p) => p.text).join('');
  const optional = pieces.filter((p) => p.drop !== undefined).sort((a, b) => (a.drop ?? 0) - (b.drop ?? 0));
  for (const p of optional) {
    if (fits(join())) break;
    kept = kept.filter((k) => k !== p);
    cut.push(p.key);
  }
  if (!fits(join())) {
    const target = kept.find((p) => p.key === shorten);
    if (target !== undefined) {
      const chars = [...target.text];
      // Bounded: one character at a time, never below one.
      for (let n = chars.length - 1; n >= 1 && !fits(join()); n--)
        target.text = `${chars.slice(0, n).join('')}…`;
      cut.push(shorten);
    }
  }
  return { text: join(), cut };
}

export function smsFits(maxSegments: number) {
  return (text: string) => {
    const len = smsLength(text);
    return len.units <= smsCapacity(len.encoding, maxSegments);
  };
}

/** One clock per zone: making one costs an Intl.DateTimeFormat, and a storm renders thousands. */
const clocks = new Map<string, ZoneClock>();

export function timeOf(ts: number, timeZone: string): { short: string; full: string } {
  let clock = clocks.get(timeZone);
  if (clock === undefined) {
    clock = new ZoneClock(timeZone);
    if (clocks.size < 64) clocks.set(timeZone, clock);
  }
  const iso = clock.iso(ts);
  return { short: iso.slice(11, 16), full: `${iso.slice(0, 10)} ${iso.slice(11, 19)}` };
}

export function paramsOf(values: Record<string, string>, max: number, cut: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) {
    // A cut link leads nowhere: it goes whole (both Chinese clouds refuse links in variables anyway;
    // a template carries its fixed link in its own text).
    const shortened = k === 'link' ? v : cutChars(v, max);
    if (shortened !== v) cut.push(`param:${k}`);
    out[k] = shortened;
  }
  return out;
}

/** The message that tells a contact of one alarm, for this medium and language. */
export function renderAlarm(f: AlarmFacts, opts: RenderOptions): RenderedMessage {
  const w = WORDS[opts.lang];
  // A folded alarm is a gateway's or an area's, not a home's: that is its place.
  const where = f.fold === undefined ? (f.place ?? f.device) : w.foldPlace({ ...f, fold: f.fold });
  const place = opts.lang === 'zh-CN' ? compactCjk(where) : where;
  const occupants = w.occupants(
    f.occupant,
    f.flags.map((flag) => w.flags[flag]),
  );
  const who = w.who(place, occupants);
  const time = timeOf(f.raisedAt, opts.timeZone);
  const cut: string[] = [];
  const params = paramsOf(
    {
      household: who,
      address: place,
      occupants,
      location: f.location ?? '',
      gas: f.gas === undefined ? '' : w.gas[f.gas],
      value: `${formatValue(f.value)}${unitOf(f)}`,
      event: w.event(f, null),
      kind: w.kind(f),
      time: time.short,
      link: f.link ?? '',
      count: String(f.fold?.count ?? 1),
      device: f.device,
    },
    opts.paramMaxChars ?? DEFAULT_PARAM_MAX_CHARS,
    cut,
  );
  switch (opts.medium) {
    case 'sms': {
      const sign = opts.sign ? w.sign(opts.sign) : '';
      // The occupants and the time are optional pieces of their own: the sentence reads the same
      // without them.
      const pieces: Piece[] = [
        { key: 'sign', text: sign },
        { key: 'address', text: place },
        ...(occupants === '' ? [] : [{ key: 'occupants', text: w.who('', occupants), drop: 3 }]),
        { key: 'event', text: opts.lang === 'en' ? `: ${w.event(f, null)}` : w.event(f, null) },
        { key: 'time', text: opts.lang === 'en' ? ` (${time.short})` : `（${time.short}）`, drop: 2 },
        { key: 'action', text: `${opts.lang === 'en' ? '. ' : '，'}${w.action(f)}` },
        ...(f.link === null ? [] : [{ key: 'link', text: `${w.linkGap}${w.link(f.link)}`, drop: 1 }]),
      ];
      if (f.kind === 'offline') {
        // "离线" reads after the time: 卧室报警器08:02起离线.
        const ev = pieces.find((p) => p.key === 'event');
        const tm = pieces.find((p) => p.key === 'time');
        if (ev !== undefined && tm !== undefined) {
          ev.text = opts.lang === 'en' ? `: ${w.event(f, time.short)}` : w.event(f, time.short);
          tm.text = '';
        }
      }
      const { text, cut: smsCut } = fit(pieces, smsFits(opts.maxSegments ?? 2), 'address');
      cut.push(...smsCut.filter((k) => !(k === 'time' && f.kind === 'offline')));
      return { text, params, segments: smsLength(text).segments, cut };
    }
    case 'voice': {
      let text = w.spoken(f, place, occupants);
      if ([...text].length > VOICE_MAX_CHARS && occupants !== '') {
        text = w.spoken(f, place, '');
        cut.push('occupants');
      }
      if ([...text].length > VOICE_MAX_CHARS) {
        text = cutChars(text, VOICE_MAX_CHARS);
        cut.push('text');
      }
      return { text, params, cut };
    }
    case 'email':
    case 'chat':
    case 'webhook':
      return {
        subject: w.subject(f, who),
        text: w.lines(f, who, time.full, f.link, false).join('\n'),
        params,
        cut,
      };
  }
}

/** The one message that tells a contact of many alarms of one kind in one area (storm control). */
export function renderGroup(g: GroupFacts, opts: RenderOptions): RenderedMessage {
  const w = WORDS[opts.lang];
  const place = opts.lang === 'zh-CN' ? compactCjk(g.place) : g.place;
  const facts = { ...g, place };
  const time = timeOf(g.since, opts.timeZone);
  const cut: string[] = [];
  const event = w.group.event(facts, time.short);
  const params = paramsOf(
    {
      household: place,
      address: place,
      occupants: '',
      location: '',
      gas: '',
      value: String(g.count),
      event,
      kind: w.kind({ kind: g.kind, gas: undefined }),
      time: time.short,
      link: g.link ?? '',
      count: String(g.count),
      device: '',
    },
    opts.paramMaxChars ?? DEFAULT_PARAM_MAX_CHARS,
    cut,
  );
  switch (opts.medium) {
    case 'sms': {
      const pieces: Piece[] = [
        { key: 'sign', text: opts.sign ? w.sign(opts.sign) : '' },
        { key: 'address', text: event },
        { key: 'action', text: `${opts.lang === 'en' ? '. ' : '，'}${w.group.action(facts, true)}` },
        ...(g.link === null ? [] : [{ key: 'link', text: `${w.linkGap}${w.link(g.link)}`, drop: 1 }]),
      ];
      const { text, cut: smsCut } = fit(pieces, smsFits(opts.maxSegments ?? 2), 'address');
      cut.push(...smsCut);
      return { text, params, segments: smsLength(text).segments, cut };
    }
    case 'voice':
      return { text: cutChars(w.group.spoken(facts), VOICE_MAX_CHARS), params, cut };
    default: {
      const lines = [`${event}${opts.lang === 'en' ? '.' : '。'}`, w.group.action(facts, false)];
      if (g.link !== null) lines.push(w.link(g.link));
      return { subject: w.group.subject(facts), text: lines.join('\n'), params, cut };
    }
  }
}
