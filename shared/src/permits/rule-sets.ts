import type { PermitRuleSetId } from './model.js';
import type {
  CitedFlag,
  CitedNumber,
  CitedOptionalNumber,
  MonitoringRule,
  PermitRuleSet,
} from './rule-set.js';
import {
  GBZ21_JUDGED_AGAINST,
  GBZ21_MOLAR_VOLUME,
  GBZ21_TOXIC_LIMITS,
  OSHA_JUDGED_AGAINST,
  OSHA_PELS,
} from './toxic-limits.js';

/**
 * The permit rule sets of SPEC §7, one per jurisdiction, chosen per site. A safety reviewer checks
 * the numbers here, each beside its clause; docs/permits.md has the same table. Clause numbers
 * without a standard's name are GB 30871-2022's, as in SPEC §7.
 */

const std = (value: number, source: string): CitedNumber => ({ value, source, setBy: 'standard' });
const dflt = (value: number, source: string): CitedNumber => ({ value, source, setBy: 'default' });
const flag = (value: boolean, source: string, setBy: CitedFlag['setBy'] = 'standard'): CitedFlag => ({
  value,
  source,
  setBy,
});
const hotWork = <T>(special: T, level1: T, level2: T) => ({
  hot_work_special: special,
  hot_work_level1: level1,
  hot_work_level2: level2,
});

const GB = 'GB 30871-2022';

/** GB 30871-2022 危险化学品企业特殊作业安全规范: chemical plants. */
export const GB30871: PermitRuleSet = {
  id: 'gb30871',
  name: GB,
  testOrder: {
    value: ['oxygen', 'combustible', 'toxic'],
    source: `${GB} sets no order; gaswatch tests O2 → combustible → toxic (as OSHA 1910.146(d)(5)(iii))`,
  },
  positionsSource: `${GB} 6.3b (large spaces: top, middle, bottom), 5.3.1a, b (hot work: within 10 m of the point, and inside the equipment)`,
  oxygen: {
    minPctVol: std(19.5, `${GB} 6.4a`),
    maxPctVol: std(21, `${GB} 6.4a`),
    maxEnrichedPctVol: std(23.5, `${GB} 6.4a (oxygen-enriched space)`),
  },
  combustible: {
    byLelClass: {
      boundaryPctVol: std(4, `${GB} 5.3.2, 6.4c`),
      atOrAboveMaxPctVol: std(0.5, `${GB} 5.3.2, 6.4c (LEL ≥ 4 %vol)`),
      belowMaxPctVol: std(0.2, `${GB} 5.3.2, 6.4c (LEL < 4 %vol)`),
    },
    maxPctLel: null,
  },
  toxic: {
    molarVolumeL: GBZ21_MOLAR_VOLUME,
    limits: [...GBZ21_TOXIC_LIMITS],
    judgedAgainst: [...GBZ21_JUDGED_AGAINST.kinds],
    judgedAgainstSource: GBZ21_JUDGED_AGAINST.source,
  },
  testWindowMin: {
    confined_space: std(30, `${GB} 6.3a`),
    ...hotWork(std(30, `${GB} 5.3.1c`), std(30, `${GB} 5.3.1c`), std(30, `${GB} 5.3.1c`)),
  },
  interruptionMin: {
    confined_space: std(60, `${GB} 6.3f`),
    ...hotWork(std(30, `${GB} 5.3.1d`), std(30, `${GB} 5.3.1d`), std(60, `${GB} 5.3.1d`)),
  },
  dailyAnalysis: {
    confined_space: flag(false, `${GB} sets none for confined spaces; the permit lasts at most 24 h (6.10)`),
    ...hotWork(flag(true, `${GB} 5.3.1d`), flag(true, `${GB} 5.3.1d`), flag(true, `${GB} 5.3.1d`)),
  },
  monitoring: {
    confined_space: { continuous: true, recordEveryMin: 120, source: `${GB} 6.5`, setBy: 'standard' },
    ...hotWork<MonitoringRule>(
      { continuous: true, recordEveryMin: null, source: `${GB} 5.3.1d (特级)`, setBy: 'standard' },
      {
        continuous: false,
        recordEveryMin: null,
        source: `${GB} 5.3.1d: continuous only for 特级`,
        setBy: 'standard',
      },
      {
        continuous: false,
        recordEveryMin: null,
        source: `${GB} 5.3.1d: continuous only for 特级`,
        setBy: 'standard',
      },
    ),
  },
  validityH: {
    confined_space: std(24, `${GB} 6.10`),
    ...hotWork(std(8, `${GB} 5.1.5`), std(8, `${GB} 5.1.5`), std(72, `${GB} 5.1.5`)),
  },
  recordRetentionYears: std(1, `${GB} annex B`),
};

const MEM = 'MEM Order 13 (2023)';
/** Order 13 covers confined spaces; where it is silent (and for hot work) the numbers are GB 30871's. */
const asGb = (clause: string) => `not set by ${MEM}: as ${GB} ${clause}`;

/** 工贸企业有限空间作业安全规定 (应急管理部令第13号): industry and trade. */
export const MEM13: PermitRuleSet = {
  id: 'mem13',
  name: MEM,
  testOrder: {
    value: ['oxygen', 'combustible', 'toxic'],
    source: `${MEM} art. 14: ventilate, then test, then work; the gases O2 → combustible → toxic`,
  },
  positionsSource: `${MEM}: representative points; ${GB} 6.3b's top, middle, bottom for large spaces, 5.3.1a, b for hot work`,
  oxygen: {
    // SPEC §7: "GB 30871's values unless the site configures others": a site may set another
    // range within 19.5–23.5 %vol (site-rules.ts).
    minPctVol: dflt(19.5, asGb('6.4a')),
    maxPctVol: dflt(21, asGb('6.4a')),
    maxEnrichedPctVol: dflt(23.5, asGb('6.4a')),
  },
  combustible: {
    byLelClass: {
      boundaryPctVol: std(4, asGb('5.3.2, 6.4c')),
      atOrAboveMaxPctVol: std(0.5, asGb('5.3.2, 6.4c (LEL ≥ 4 %vol)')),
      belowMaxPctVol: std(0.2, asGb('5.3.2, 6.4c (LEL < 4 %vol)')),
    },
    maxPctLel: null,
  },
  toxic: {
    molarVolumeL: GBZ21_MOLAR_VOLUME,
    limits: [...GBZ21_TOXIC_LIMITS],
    judgedAgainst: [...GBZ21_JUDGED_AGAINST.kinds],
    judgedAgainstSource: `not set by ${MEM}: GBZ 2.1; ${GBZ21_JUDGED_AGAINST.source}`,
  },
  testWindowMin: {
    confined_space: dflt(30, `${MEM} art. 14 tests before work without a window; 30 min as ${GB} 6.3a`),
    ...hotWork(dflt(30, asGb('5.3.1c')), dflt(30, asGb('5.3.1c')), dflt(30, asGb('5.3.1c'))),
  },
  interruptionMin: {
    confined_space: std(0, `${MEM}: any interruption needs a new test`),
    ...hotWork(
      std(0, `${MEM}: any interruption needs a new test`),
      std(0, `${MEM}: any interruption needs a new test`),
      std(0, `${MEM}: any interruption needs a new test`),
    ),
  },
  dailyAnalysis: {
    confined_space: flag(false, asGb('(none for confined spaces)'), 'default'),
    ...hotWork(
      flag(true, asGb('5.3.1d'), 'default'),
      flag(true, asGb('5.3.1d'), 'default'),
      flag(true, asGb('5.3.1d'), 'default'),
    ),
  },
  monitoring: {
    confined_space: {
      continuous: true,
      recordEveryMin: null,
      source: `${MEM} art. 15: continuous ventilation and testing`,
      setBy: 'standard',
    },
    ...hotWork<MonitoringRule>(
      { continuous: true, recordEveryMin: null, source: asGb('5.3.1d (特级)'), setBy: 'default' },
      { continuous: false, recordEveryMin: null, source: asGb('5.3.1d'), setBy: 'default' },
      { continuous: false, recordEveryMin: null, source: asGb('5.3.1d'), setBy: 'default' },
    ),
  },
  validityH: {
    confined_space: dflt(24, asGb('6.10')),
    ...hotWork(dflt(8, asGb('5.1.5')), dflt(8, asGb('5.1.5')), dflt(72, asGb('5.1.5'))),
  },
  recordRetentionYears: dflt(
    1,
    `${MEM} art. 6 keeps a register (台账) without a period; 1 year as ${GB} annex B`,
  ),
};

const OSHA = 'OSHA 29 CFR 1910.146';
/** 1910.146 is about confined spaces; hot work numbers it does not have are GB 30871's. */
const oshaAsGb = (clause: string) => `not set by ${OSHA}: as ${GB} ${clause}`;

/** OSHA 29 CFR 1910.146 permit-required confined spaces. */
export const OSHA1910: PermitRuleSet = {
  id: 'osha1910',
  name: OSHA,
  testOrder: { value: ['oxygen', 'combustible', 'toxic'], source: `${OSHA}(d)(5)(iii)` },
  positionsSource: `${OSHA}: representative; Appendix B (stratified atmospheres) at levels, so top, middle, bottom in large spaces`,
  oxygen: {
    minPctVol: std(19.5, `${OSHA}(b) oxygen deficient atmosphere: below 19.5 %`),
    maxPctVol: std(23.5, `${OSHA}(b) oxygen enriched atmosphere: above 23.5 %`),
    maxEnrichedPctVol: std(23.5, `${OSHA}(b) oxygen enriched atmosphere: above 23.5 %`),
  },
  combustible: {
    byLelClass: null,
    // 1910.146(b) says "in excess of 10 percent of its LFL"; SPEC §7 says "< 10 %LFL". The SPEC's
    // is the stricter reading and the product's contract: exactly 10 %LFL fails.
    maxPctLel: {
      ...std(10, `${OSHA}(b) hazardous atmosphere (1); SPEC §7: below 10 %LFL`),
      inclusive: false,
    },
  },
  toxic: {
    molarVolumeL: std(24.45, '29 CFR 1910.1000: PELs at 25 °C, 760 mmHg'),
    limits: [...OSHA_PELS],
    judgedAgainst: [...OSHA_JUDGED_AGAINST.kinds],
    judgedAgainstSource: OSHA_JUDGED_AGAINST.source,
  },
  testWindowMin: {
    confined_space: dflt(30, `${OSHA}(d)(5)(i) tests before entry without a window; 30 min as ${GB} 6.3a`),
    ...hotWork(dflt(30, oshaAsGb('5.3.1c')), dflt(30, oshaAsGb('5.3.1c')), dflt(30, oshaAsGb('5.3.1c'))),
  },
  interruptionMin: {
    confined_space: dflt(0, `${OSHA}: as the permit says; gaswatch tests again after any interruption`),
    ...hotWork(
      dflt(0, `${OSHA}: as the permit says; gaswatch tests again after any interruption`),
      dflt(0, `${OSHA}: as the permit says; gaswatch tests again after any interruption`),
      dflt(0, `${OSHA}: as the permit says; gaswatch tests again after any interruption`),
    ),
  },
  dailyAnalysis: {
    confined_space: flag(false, `not set by ${OSHA}`, 'default'),
    ...hotWork(
      flag(true, oshaAsGb('5.3.1d'), 'default'),
      flag(true, oshaAsGb('5.3.1d'), 'default'),
      flag(true, oshaAsGb('5.3.1d'), 'default'),
    ),
  },
  monitoring: {
    confined_space: {
      continuous: true,
      recordEveryMin: null,
      source: `${OSHA}(d)(5)(ii): test or monitor as necessary during entry; gaswatch monitors continuously`,
      setBy: 'default',
    },
    ...hotWork<MonitoringRule>(
      { continuous: true, recordEveryMin: null, source: oshaAsGb('5.3.1d (特级)'), setBy: 'default' },
      { continuous: false, recordEveryMin: null, source: oshaAsGb('5.3.1d'), setBy: 'default' },
      { continuous: false, recordEveryMin: null, source: oshaAsGb('5.3.1d'), setBy: 'default' },
    ),
  },
  validityH: {
    confined_space: {
      value: null,
      source: `${OSHA}(e)(5): no longer than the job on the permit needs`,
      setBy: 'standard',
    } satisfies CitedOptionalNumber,
    ...hotWork<CitedOptionalNumber>(
      { value: null, source: `${OSHA}(e)(5): the job's duration`, setBy: 'standard' },
      { value: null, source: `${OSHA}(e)(5): the job's duration`, setBy: 'standard' },
      { value: null, source: `${OSHA}(e)(5): the job's duration`, setBy: 'standard' },
    ),
  },
  recordRetentionYears: std(1, `${OSHA}(e)(6): cancelled permits kept at least 1 year`),
};

/** Every built-in rule set by id. */
export const PERMIT_RULE_SETS: Readonly<Record<PermitRuleSetId, PermitRuleSet>> = {
  gb30871: GB30871,
  mem13: MEM13,
  osha1910: OSHA1910,
};
