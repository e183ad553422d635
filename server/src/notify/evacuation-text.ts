import { smsLength } from './sms-length.js';
import {
  compactCjk,
  cutChars,
  DEFAULT_PARAM_MAX_CHARS,
  fit,
  type Lang,
  type Piece,
  paramsOf,
  type RenderedMessage,
  type RenderOptions,
  smsFits,
  timeOf,
  VOICE_MAX_CHARS,
} from './templates.js';

/**
 * What the evacuation alert of a stopped permit says (issue 14): work in a confined space or at a
 * hot-work point was stopped by the server (an alarm, a failed reading, the detector gone), and
 * the attendant, the applicant and the site's duty contacts must get everyone out, count them and
 * keep them out until the air is tested again. One text per medium and language, as templates.ts
 * writes an alarm's; the Chinese as a site's safety officer says it:
 * 【燃气安全】3号污水检查井作业已停止：检测仪报警（硫化氢 15ppm），请立即撤出全部作业人员并清点人数，重新检测合格前严禁进入。回复1确认。
 */

export interface EvacuationFacts {
  permitId: string;
  /** Where the work is: the space's name and location, or the hot work's location. */
  place: string;
  /** Why the work was stopped, in each language (检测仪报警（硫化氢 15ppm）). */
  why: Record<Lang, string>;
  /** When it was stopped. */
  at: number;
  /** The permit's page in the console, when the console's public address is configured. */
  link: string | null;
}

interface EvacuationWords {
  stopped(place: string, why: string): string;
  /** The template parameter `event`: what happened without the place. */
  event(why: string): string;
  time(t: string): string;
  action: string;
  reply: string;
  subject(place: string): string;
  spoken(place: string, why: string): string;
  link(url: string): string;
  permit(id: string): string;
  kind: string;
}

const WORDS: Record<Lang, EvacuationWords> = {
  'zh-CN': {
    stopped: (place, why) => `${place}作业已停止：${why}`,
    event: (why) => `作业已停止：${why}`,
    time: (t) => `（${t}）`,
    action: '，请立即撤出全部作业人员并清点人数，重新检测合格前严禁进入。',
    reply: '回复1确认。',
    subject: (place) => `【紧急撤离】${place}作业已停止`,
    spoken: (place, why) =>
      `紧急撤离通知。${place}作业已停止，原因是${why}。请立即撤出全部作业人员并清点人数，重新检测合格前严禁进入。收到请按1。`,
    link: (url) => `详情 ${url}`,
    permit: (id) => `作业票 ${id}`,
    kind: '紧急撤离',
  },
  en: {
    stopped: (place, why) => `Work stopped at ${place}: ${why}`,
    event: (why) => `: work stopped, ${why}`,
    time: (t) => ` (${t})`,
    action: '. Get everyone out now and count them; no one goes back in before a new gas test passes. ',
    reply: 'Reply 1 to confirm.',
    subject: (place) => `EVACUATE: work stopped at ${place}`,
    spoken: (place, why) =>
      `Evacuation alert. Work at ${place} has been stopped: ${why}. Get everyone out now and count them. Nobody goes back in before a new gas test passes. Press 1 to confirm.`,
    link: (url) => `Details: ${url}`,
    permit: (id) => `Permit ${id}`,
    kind: 'Evacuate',
  },
};

/** The evacuation alert for this medium and language. */
export function renderEvacuation(e: EvacuationFacts, opts: RenderOptions): RenderedMessage {
  const w = WORDS[opts.lang];
  const zh = opts.lang === 'zh-CN';
  const place = zh ? compactCjk(e.place) : e.place;
  const why = e.why[opts.lang];
  const time = timeOf(e.at, opts.timeZone);
  const cut: string[] = [];
  const params = paramsOf(
    {
      household: place,
      address: place,
      occupants: '',
      location: '',
      gas: '',
      value: '',
      event: w.event(why),
      kind: w.kind,
      time: time.short,
      link: e.link ?? '',
      count: '1',
      device: '',
    },
    opts.paramMaxChars ?? DEFAULT_PARAM_MAX_CHARS,
    cut,
  );
  switch (opts.medium) {
    case 'sms': {
      // The place and what to do always stay whole; a long reason is what gets shortened.
      const pieces: Piece[] = [
        { key: 'sign', text: opts.sign ? (zh ? `【${opts.sign}】` : `[${opts.sign}] `) : '' },
        { key: 'address', text: w.stopped(place, '') },
        { key: 'why', text: why },
        { key: 'time', text: w.time(time.short), drop: 2 },
        { key: 'action', text: `${w.action}${w.reply}` },
        ...(e.link === null ? [] : [{ key: 'link', text: `${zh ? '' : ' '}${w.link(e.link)}`, drop: 1 }]),
      ];
      const { text, cut: smsCut } = fit(pieces, smsFits(opts.maxSegments ?? 2), 'why');
      cut.push(...smsCut);
      return { text, params, segments: smsLength(text).segments, cut };
    }
    case 'voice': {
      const text = w.spoken(place, why);
      if ([...text].length <= VOICE_MAX_CHARS) return { text, params, cut };
      cut.push('text');
      return { text: cutChars(text, VOICE_MAX_CHARS), params, cut };
    }
    default: {
      const lines = [
        `${w.stopped(place, why)}${w.time(time.full)}${zh ? '。' : '.'}`,
        w.action.replace(/^[，.]\s*/, '').trim(),
        w.permit(e.permitId),
      ];
      if (e.link !== null) lines.push(w.link(e.link));
      return { subject: w.subject(place), text: lines.join('\n'), params, cut };
    }
  }
}
