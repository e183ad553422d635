import type { GaswatchConfig, Procedure } from './config-schema.js';
import { type Alarm, alarmKind } from './model.js';
import { own } from './select.js';

export type { Procedure } from './config-schema.js';

const COMBUSTIBLE = ['CH4', 'C3H8', 'LEL'] as const;

/**
 * The built-in procedures, written as a township duty room and a plant's safety office work (the
 * steps of the winter CO campaigns' 处置流程 and of GB 30871's rescue rules). A site replaces any
 * of them with `procedures:` in its config.
 */
export const BUILT_IN_PROCEDURES: readonly Procedure[] = [
  {
    kind: 'gas',
    gases: ['CO'],
    siteType: 'household',
    text: {
      'zh-CN': [
        '1. 立即拨打住户电话：请其马上开窗通风，熄灭煤炉、炭火或关闭燃气热水器，人员离开房间到室外。',
        '2. 有人头痛、头晕、恶心、乏力或叫不醒：立即拨打 120，说明可能是一氧化碳中毒。',
        '3. 无人接听：按顺序联系家属、邻居，同时通知网格员马上上门。',
        '4. 上门先敲门呼叫；进门后先开窗，不要开关电器，不要点火。',
        '5. 人员安全后查明原因（取暖方式、烟道是否堵塞、是否在卧室烧炭），记录后办结。',
      ].join('\n'),
      en: [
        '1. Call the household now: open the windows, put out the stove or charcoal, turn off the gas water heater, and get everyone outside.',
        '2. Anyone with a headache, dizziness, nausea or weakness, or who cannot be woken: call 120 and say it may be CO poisoning.',
        '3. No answer: call family and neighbours in order, and send the grid worker to the door at once.',
        '4. At the door, knock and call out; once inside, open windows first; do not switch electrics or light anything.',
        '5. When everyone is safe, find the cause (heating, blocked flue, charcoal in a bedroom), note it, then resolve.',
      ].join('\n'),
    },
  },
  {
    kind: 'gas',
    gases: [...COMBUSTIBLE],
    text: {
      'zh-CN': [
        '1. 立即通知现场：严禁明火，不要开关电器，不要在室内打电话；关闭燃气总阀，开窗通风。',
        '2. 查看联动状态：切断阀是否已关闭、排风扇是否已启动。',
        '3. 人员撤到上风向安全处；浓度继续上升或燃气味扩散：拨打 119 和燃气公司抢修电话。',
        '4. 找到泄漏点并修复后方可恢复供气；记录处置情况后办结。',
      ].join('\n'),
      en: [
        '1. Tell the site now: no flames, no switching of electrics, no phone calls indoors; shut the gas main and open the windows.',
        '2. Check the interlock: the shut-off valve closed, the fan started.',
        "3. Get people out, upwind; if the level keeps rising or the smell spreads, call 119 and the gas company's emergency line.",
        '4. Restore the gas only after the leak is found and repaired; note what was done, then resolve.',
      ].join('\n'),
    },
  },
  {
    kind: 'gas',
    text: {
      'zh-CN': [
        '1. 立即通知作业监护人：停止作业，作业人员马上撤离受限空间或危险区域。',
        '2. 未佩戴正压式空气呼吸器，任何人不得进入施救。',
        '3. 有人不适或被困：拨打 120、119，启动应急救援预案。',
        '4. 通风并重新检测合格、重新办理作业许可后，方可恢复作业；记录后办结。',
      ].join('\n'),
      en: [
        '1. Tell the attendant now: stop work and get everyone out of the space or the danger area.',
        '2. Nobody goes in to rescue without a self-contained breathing apparatus.',
        '3. Anyone unwell or trapped: call 120 and 119 and start the rescue plan.',
        '4. Resume only after ventilation, a passing gas test and a new permit; note it, then resolve.',
      ].join('\n'),
    },
  },
  {
    kind: 'detector',
    text: {
      'zh-CN': [
        '1. 探测器自身报警：立即电话联系现场，确认是否闻到异味、有无人员不适。',
        '2. 按燃气或一氧化碳报警处置：开窗通风、熄火断气、人员撤离。',
        '3. 联系不上：通知网格员或现场负责人马上到场。',
        '4. 查明原因后记录并办结。',
      ].join('\n'),
      en: [
        '1. The detector itself is alarming: call the site now; ask about smells and anyone unwell.',
        '2. Act as for a gas or CO alarm: ventilate, put out flames, shut the gas, get people out.',
        '3. No answer: send the grid worker or the person in charge of the site at once.',
        '4. Find the cause, note it, then resolve.',
      ].join('\n'),
    },
  },
  {
    kind: 'offline',
    text: {
      'zh-CN': [
        '1. 离线期间该处没有报警保护，要尽快恢复。',
        '2. 查看同一网关下的其他设备是否也离线（可能是停电或网络中断）。',
        '3. 电话联系住户或现场，确认探测器是否有电、是否被拔掉。',
        '4. 联系不上或无法恢复：安排网格员或维护人员上门检查。',
      ].join('\n'),
      en: [
        '1. While it is offline this place has no alarm protection: restore it soon.',
        '2. Check whether the other devices of the same gateway are offline too (power cut or network down).',
        '3. Call the household or the site: is the detector powered, was it unplugged?',
        '4. No answer or no fix: send the grid worker or a technician.',
      ].join('\n'),
    },
  },
  {
    kind: 'fault',
    text: {
      'zh-CN': [
        '1. 探测器故障时不能可靠报警，该处视为无保护。',
        '2. 通知维护人员尽快检修或更换；必要时先放置便携式检测仪。',
        '3. 记录故障现象后办结，原因选“设备故障”。',
      ].join('\n'),
      en: [
        '1. A faulty detector cannot be trusted to alarm: treat this place as unprotected.',
        '2. Have a technician repair or replace it soon; put a portable detector there meanwhile if needed.',
        '3. Note what the fault looked like, then resolve as "device fault".',
      ].join('\n'),
    },
  },
  {
    kind: 'maintenance',
    text: {
      'zh-CN': [
        '1. 该探测器未通过气体测试（冲击测试），不得用于作业前检测。',
        '2. 标定或更换后重新测试，合格后方可使用。',
      ].join('\n'),
      en: [
        '1. This detector failed its bump test: it may not be used for a gas test before entry.',
        '2. Calibrate or replace it and test again before use.',
      ].join('\n'),
    },
  },
];

/** How many fields a procedure names (the more, the more specific). */
const specificity = (p: Procedure) =>
  Number(p.gases !== undefined) + Number(p.severity !== undefined) + Number(p.siteType !== undefined);

/**
 * The procedure for an alarm: the most specific match among the configured ones, then the
 * built-in ones; null when none matches (a configured list cannot remove the built-ins' catch-alls,
 * so that happens only for a kind with no built-in).
 */
export function procedureFor(
  a: Pick<Alarm, 'key' | 'rule' | 'gas' | 'severity' | 'site'>,
  config: Pick<GaswatchConfig, 'procedures' | 'sites' | 'defaults'>,
): Procedure | null {
  const kind = alarmKind(a);
  const siteType = own(config.sites, a.site)?.type ?? config.defaults.siteType;
  const matches = (p: Procedure) =>
    p.kind === kind &&
    (p.gases === undefined || (a.gas !== undefined && p.gases.includes(a.gas))) &&
    (p.severity === undefined || p.severity === a.severity) &&
    (p.siteType === undefined || p.siteType === siteType);
  let best: Procedure | null = null;
  // Configured first: on a tie the first found stays.
  for (const p of [...config.procedures, ...BUILT_IN_PROCEDURES])
    if (matches(p) && (best === null || specificity(p) > specificity(best))) best = p;
  return best;
}
