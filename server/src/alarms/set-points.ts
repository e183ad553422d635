import {
  type AlarmProfileId,
  createRuleSet,
  type DeviceState,
  GASES,
  type GasId,
  type Severity,
} from '@gaswatch/shared';
import { inferKind, own, type RuleConfig, selectRules } from './select.js';

/** One alarm set point of a gas, in the gas's canonical unit so it can be drawn over its readings. */
export interface SetPoint {
  /** The condition's key, e.g. 'CO:high', 'CO:dose', 'CO:stel'. */
  key: string;
  gas: GasId;
  severity: Severity;
  /**
   * level: each reading is compared with it; dose: a CO dose (the level a steady concentration
   * alarms at, after a while); mean: a window mean (`windowMs`), e.g. STEL, TWA.
   */
  kind: 'level' | 'dose' | 'mean';
  /** Direction: '>=' alarms at or above, '<' below (oxygen deficiency). */
  op: '>=' | '>' | '<' | '<=';
  /** The set point in the gas's canonical unit (`unit`). */
  value: number;
  unit: string;
  /** For a window mean: the window's length, ms. */
  windowMs?: number;
  /** The set point as the standard writes it, where that is another unit (30 mg/m³). */
  limit?: { value: number; unit: string };
}

/** The alarm profile a device runs, and its gas set points. */
export interface DeviceSetPoints {
  profile: AlarmProfileId;
  setPoints: SetPoint[];
}

/** Four significant digits: 26.178010471 ppm reads 26.18. */
const round = (x: number) => Number(x.toPrecision(4));

/**
 * The set points of the rules the alarm engine runs for a device (device-rules.ts selects them the
 * same way, from the same configuration): its kind from its DeviceState (else from its channels),
 * its site from the DeviceState (else from the config). Null when nothing says what it measures.
 */
export function deviceSetPoints(
  config: RuleConfig & { devices: Record<string, { site?: string | undefined }> },
  dev: string,
  state: DeviceState | null,
  values: Partial<Record<GasId, number>> | undefined,
): DeviceSetPoints | null {
  if (state === null && values === undefined) return null;
  const kind = state?.kind ?? inferKind(values ?? {});
  const site = state?.site || (own(config.devices, dev)?.site ?? null);
  const sel = selectRules(config, dev, kind, site);
  let rules: ReturnType<typeof createRuleSet>;
  try {
    rules = createRuleSet(sel.profile, sel.options);
  } catch {
    // As the engine does: a combination of options its profile refuses runs the defaults.
    rules = createRuleSet(sel.profile);
  }
  const setPoints: SetPoint[] = [];
  for (const c of rules.conditions) {
    if (c.gas === undefined) continue;
    if (c.measure !== 'instant' && c.measure !== 'dose' && c.measure !== 'window') continue;
    const unit = GASES[c.gas].unit;
    const factor = c.factor ?? 1;
    const kind = c.measure === 'instant' ? 'level' : c.measure === 'dose' ? 'dose' : 'mean';
    setPoints.push({
      key: c.key,
      gas: c.gas,
      severity: c.severity,
      kind,
      op: c.op,
      value: round(c.setPoint / factor),
      unit,
      ...(c.windowMs === undefined ? {} : { windowMs: c.windowMs }),
      ...(c.unit === unit ? {} : { limit: { value: c.setPoint, unit: c.unit } }),
    });
  }
  return { profile: sel.profile, setPoints };
}
