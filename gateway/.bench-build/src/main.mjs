// src/main.ts

// src/config.ts
import { readFileSync as readFileSync2 } from 'node:fs';
import { dirname as dirname2, isAbsolute, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import closeWithGrace from 'close-with-grace';

// ../shared/src/alarms/dose.ts
var MS_PER_MIN = 6e4;
function doseStep(dose, c, dtMs, tauMin) {
  if (!(dtMs > 0)) return dose;
  return c + (dose - c) * Math.exp(-dtMs / (tauMin * MS_PER_MIN));
}

// ../shared/src/alarms/errors.ts
var AlarmInputError = class extends Error {
  constructor(code, message, detail) {
    super(message);
    this.code = code;
    this.detail = detail;
  }
  code;
  detail;
  name = 'AlarmInputError';
};

// ../shared/src/gases.ts
import { z } from 'zod';

var GAS_IDS = ['CO', 'H2S', 'O2', 'CH4', 'C3H8', 'LEL', 'CO2'];
var GasIdSchema = z.enum(GAS_IDS).describe('Gas or channel id from the gas catalogue');
var GASES = {
  CO: { id: 'CO', name: 'carbon monoxide', unit: 'ppm', molarMass: 28.01 },
  H2S: { id: 'H2S', name: 'hydrogen sulfide', unit: 'ppm', molarMass: 34.08 },
  O2: { id: 'O2', name: 'oxygen', unit: '%vol', molarMass: 32 },
  CH4: { id: 'CH4', name: 'methane', unit: '%LEL', molarMass: 16.04, lelPercentVol: 5 },
  C3H8: { id: 'C3H8', name: 'propane', unit: '%LEL', molarMass: 44.1, lelPercentVol: 2.1 },
  // A catalytic or IR combustible channel calibrated on methane.
  LEL: { id: 'LEL', name: 'combustible gas (methane-calibrated)', unit: '%LEL', lelPercentVol: 5 },
  CO2: { id: 'CO2', name: 'carbon dioxide', unit: 'ppm', molarMass: 44.01 },
};
var MOLAR_VOLUME = { '25C': 24.45, '0C': 22.4 };
function molarMassOf(gas) {
  const m = GASES[gas].molarMass;
  if (m === void 0) throw new RangeError(`${gas} has no molar mass: no ppm \u2194 mg/m\xB3 conversion`);
  return m;
}
function ppmToMgM3(gas, ppm, basis = '25C') {
  return (ppm * molarMassOf(gas)) / MOLAR_VOLUME[basis];
}

// ../shared/src/alarms/threshold.ts
var THRESHOLD_IDLE = Object.freeze({ active: false, pendingSince: null });
function compare(op, value, setPoint) {
  switch (op) {
    case '>=':
      return value >= setPoint;
    case '>':
      return value > setPoint;
    case '<':
      return value < setPoint;
    case '<=':
      return value <= setPoint;
  }
}
function clearLevel(spec) {
  return spec.op === '>=' || spec.op === '>' ? spec.setPoint - spec.band : spec.setPoint + spec.band;
}
function thresholdStep(state, value, ts, spec, restart = false) {
  if (state.active) {
    if (compare(spec.op, value, clearLevel(spec))) return { state, change: null };
    return { state: THRESHOLD_IDLE, change: 'cleared' };
  }
  if (!compare(spec.op, value, spec.setPoint)) {
    return { state: state.pendingSince === null ? state : THRESHOLD_IDLE, change: null };
  }
  const since = state.pendingSince === null || restart ? ts : state.pendingSince;
  if (ts - since >= spec.onDelayMs) return { state: { active: true, pendingSince: null }, change: 'raised' };
  return {
    state: since === state.pendingSince ? state : { active: false, pendingSince: since },
    change: null,
  };
}

// ../shared/src/alarms/window.ts
var CHUNK = 128;
var CHUNK_LEN = CHUNK * 3;
function createWindow(windowMs) {
  if (!(windowMs > 0) || !Number.isFinite(windowMs))
    throw new RangeError(`window must be > 0 ms, got ${windowMs}`);
  return { windowMs, chunks: [], head: 0, integral: 0, lastTs: null, lastC: null };
}
function sumLive(chunks, head) {
  let s = 0;
  for (let k = 0; k < chunks.length; k++) {
    const ch = chunks[k];
    for (let i = k === 0 ? head : 0; i < ch.length; i += 3) s += (ch[i + 1] - ch[i]) * ch[i + 2];
  }
  return s;
}
function windowMean(state, ts) {
  const start = ts - state.windowMs;
  let integral = state.integral;
  const first = state.chunks[0];
  if (first !== void 0 && state.head < first.length) {
    const s = first[state.head];
    const e = first[state.head + 1];
    if (s < start) integral -= (Math.min(e, start) - s) * first[state.head + 2];
  }
  if (state.lastTs !== null && state.lastC !== null && ts > state.lastTs) {
    integral += (ts - Math.max(state.lastTs, start)) * state.lastC;
  }
  return Math.max(0, integral) / state.windowMs;
}
function windowStep(state, ts, c, maxGapMs = Number.POSITIVE_INFINITY) {
  let { chunks, head, integral } = state;
  const { lastTs, lastC, windowMs } = state;
  if (lastTs !== null && lastC !== null && ts > lastTs && ts - lastTs <= maxGapMs && lastC !== 0) {
    const last = chunks[chunks.length - 1];
    if (last !== void 0 && last.length < CHUNK_LEN) {
      chunks = [...chunks.slice(0, -1), [...last, lastTs, ts, lastC]];
    } else {
      chunks = [...chunks, [lastTs, ts, lastC]];
    }
    integral += (ts - lastTs) * lastC;
  }
  const start = ts - windowMs;
  let dropped = false;
  for (;;) {
    const first = chunks[0];
    if (first === void 0) break;
    if (head >= first.length) {
      chunks = chunks.slice(1);
      head = 0;
      dropped = true;
      continue;
    }
    if (first[head + 1] > start) break;
    integral -= (first[head + 1] - first[head]) * first[head + 2];
    head += 3;
  }
  if (dropped) integral = sumLive(chunks, head);
  if (chunks.length === 0) integral = 0;
  const next = { windowMs, chunks, head, integral, lastTs: ts, lastC: c };
  return { state: next, mean: windowMean(next, ts) };
}

// ../shared/src/alarms/rules.ts
var UL2034 = { tauMin: 90, setPointPpm: 45 };
var EN50291 = { tauMin: 45, setPointPpm: 40, fastPpm: 300, fastHoldS: 120 };
var COMBUSTIBLE = { lowLel: 25, highLel: 50 };
var CONFINED_SPACE = {
  o2LowPct: 19.5,
  o2HighPct: 23.5,
  lelLow: 10,
  lelHigh: 20,
  coLowPpm: 35,
  coHighPpm: 200,
  h2sLowPpm: 10,
  h2sHighPpm: 15,
};
var GBZ21_LIMITS = [
  { gas: 'CO', twaMgM3: 20, stelMgM3: 30 },
  { gas: 'H2S', macMgM3: 10 },
];
var NORMAL_O2_PCT = 20.9;
var STEL_WINDOW_MS = 15 * 6e4;
var TWA_WINDOW_MS = 8 * 36e5;
var DEFAULTS = { hysteresis: 0.1, onDelayS: 0, maxGapS: 600, maxWarmupS: 900 };
var COMBUSTIBLE_GASES = ['LEL', 'CH4', 'C3H8'];
function fmt(x) {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x)) return String(x);
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : x.toFixed(2);
}
var OP_TEXT = { '>=': '\u2265', '>': '>', '<': '<', '<=': '\u2264' };
function conditionOf(def, value, cleared) {
  const u = def.unit ? ` ${def.unit}` : '';
  let message;
  if (def.measure.kind === 'fault') {
    message = cleared ? 'detector fault cleared' : 'detector fault';
  } else if (def.measure.kind === 'warmup') {
    message = cleared
      ? 'warm-up ended'
      : `warm-up not finished after ${fmt(value)} s (limit ${fmt(def.spec.setPoint)} s)`;
  } else if (cleared) {
    const back = def.spec.op === '<' || def.spec.op === '<=' ? 'above' : 'below';
    message = `${def.label} ${fmt(value)}${u} back ${back} ${fmt(clearLevel(def.spec))}${u}, cleared (${def.source})`;
  } else {
    message = `${def.label} ${fmt(value)}${u} ${OP_TEXT[def.spec.op]} ${fmt(def.spec.setPoint)}${u} (${def.source})`;
  }
  const c = {
    key: def.key,
    rule: def.rule,
    severity: def.severity,
    value,
    threshold: def.spec.setPoint,
    unit: def.unit,
    message,
  };
  if (def.gas !== void 0) c.gas = def.gas;
  return c;
}
function nonNegative(name, v, fallback) {
  if (v === void 0) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new AlarmInputError(
      'invalid_option',
      `${name} must be a finite number \u2265 0, got ${String(v)}`,
      {
        [name]: v,
      },
    );
  }
  return v;
}
var Builder = class {
  constructor(options) {
    this.options = options;
    this.hysteresis = nonNegative('hysteresis', options.hysteresis, DEFAULTS.hysteresis);
    this.onDelayS = nonNegative('onDelayS', options.onDelayS, DEFAULTS.onDelayS);
    if (this.hysteresis >= 1) {
      throw new AlarmInputError(
        'invalid_option',
        `hysteresis is a fraction of the set point (< 1), got ${this.hysteresis}`,
      );
    }
    for (const [k, v] of Object.entries(options.thresholds ?? {})) nonNegative(`thresholds.${k}`, v, 0);
    for (const [k, v] of Object.entries(options.bands ?? {})) nonNegative(`bands.${k}`, v, 0);
    for (const [k, v] of Object.entries(options.onDelays ?? {})) nonNegative(`onDelays.${k}`, v, 0);
  }
  options;
  defs = [];
  hysteresis;
  onDelayS;
  add(d) {
    if (this.defs.some((x) => x.key === d.key)) return;
    const setPoint = nonNegative(`thresholds.${d.key}`, this.options.thresholds?.[d.key], d.setPoint);
    const bandBase = d.gas === 'O2' ? Math.abs(setPoint - NORMAL_O2_PCT) : setPoint;
    const band = nonNegative(`bands.${d.key}`, this.options.bands?.[d.key], this.hysteresis * bandBase);
    const defaultDelay = d.onDelayS ?? (d.timed === false ? 0 : this.onDelayS);
    const onDelayS = nonNegative(`onDelays.${d.key}`, this.options.onDelays?.[d.key], defaultDelay);
    const { setPoint: _s, op, onDelayS: _o, timed: _t, ...rest } = d;
    this.defs.push({ ...rest, spec: { setPoint, op, band, onDelayMs: onDelayS * 1e3 } });
  }
  ul2034(gas = 'CO') {
    this.add({
      key: `${gas}:dose`,
      rule: 'ul2034',
      gas,
      severity: 'critical',
      unit: 'ppm',
      label: `${gas} dose`,
      source: 'UL 2034',
      measure: { kind: 'dose', gas, tauMin: UL2034.tauMin },
      setPoint: UL2034.setPointPpm,
      op: '>=',
      timed: false,
    });
  }
  en50291(gas = 'CO') {
    this.add({
      key: `${gas}:dose`,
      rule: 'en50291-slow',
      gas,
      severity: 'critical',
      unit: 'ppm',
      label: `${gas} dose`,
      source: 'EN 50291 slow tier',
      measure: { kind: 'dose', gas, tauMin: EN50291.tauMin },
      setPoint: EN50291.setPointPpm,
      op: '>=',
      timed: false,
    });
    this.add({
      key: `${gas}:fast`,
      rule: 'en50291-fast',
      gas,
      severity: 'critical',
      unit: 'ppm',
      label: gas,
      source: `EN 50291 fast tier, held ${EN50291.fastHoldS} s`,
      measure: { kind: 'instant', gas, factor: 1 },
      setPoint: EN50291.fastPpm,
      op: '>=',
      onDelayS: EN50291.fastHoldS,
    });
  }
  level(gas, tier, setPoint, rule, source, severity) {
    this.add({
      key: `${gas}:${tier}`,
      rule,
      gas,
      severity: severity ?? (tier === 'low' ? 'warning' : 'critical'),
      unit: GASES[gas].unit,
      label: gas,
      source,
      measure: { kind: 'instant', gas, factor: 1 },
      setPoint,
      op: gas === 'O2' ? (tier === 'low' ? '<' : '>') : '>=',
    });
  }
  exposure(limit) {
    const { gas } = limit;
    if (GASES[gas].molarMass === void 0 || GASES[gas].unit !== 'ppm') {
      throw new AlarmInputError('invalid_option', `stelTwa: ${gas} is not a ppm gas with a molar mass`, {
        gas,
      });
    }
    const factor = ppmToMgM3(gas, 1, this.options.molarVolume ?? '25C');
    const common = { gas, unit: 'mg/m\xB3', source: 'GBZ 2.1' };
    if (limit.macMgM3 !== void 0) {
      this.add({
        ...common,
        key: `${gas}:mac`,
        rule: 'mac',
        severity: 'critical',
        label: `${gas}`,
        measure: { kind: 'instant', gas, factor },
        setPoint: nonNegative(`stelTwa.${gas}.macMgM3`, limit.macMgM3, 0),
        op: '>=',
      });
    }
    if (limit.stelMgM3 !== void 0) {
      this.add({
        ...common,
        key: `${gas}:stel`,
        rule: 'stel',
        severity: 'critical',
        label: `${gas} 15-min mean`,
        measure: { kind: 'window', gas, windowMs: STEL_WINDOW_MS, factor },
        setPoint: nonNegative(`stelTwa.${gas}.stelMgM3`, limit.stelMgM3, 0),
        op: '>=',
        timed: false,
      });
    }
    if (limit.twaMgM3 !== void 0) {
      this.add({
        ...common,
        key: `${gas}:twa`,
        rule: 'twa',
        severity: 'warning',
        label: `${gas} 8-h mean`,
        measure: { kind: 'window', gas, windowMs: TWA_WINDOW_MS, factor },
        setPoint: nonNegative(`stelTwa.${gas}.twaMgM3`, limit.twaMgM3, 0),
        op: '>=',
        timed: false,
      });
    }
  }
  faults() {
    this.add({
      key: 'fault',
      rule: 'fault',
      severity: 'warning',
      unit: '',
      label: 'fault',
      source: 'detector',
      measure: { kind: 'fault' },
      setPoint: 1,
      op: '>=',
      onDelayS: 0,
      timed: false,
    });
    this.add({
      key: 'fault:warmup',
      rule: 'fault',
      severity: 'warning',
      unit: 's',
      label: 'warm-up',
      source: 'detector',
      measure: { kind: 'warmup' },
      setPoint: nonNegative('maxWarmupS', this.options.maxWarmupS, DEFAULTS.maxWarmupS),
      op: '>=',
      onDelayS: 0,
      timed: false,
    });
  }
};
function buildDefs(profile, options) {
  const b = new Builder(options);
  switch (profile) {
    case 'ul2034':
      b.ul2034();
      break;
    case 'en50291':
      b.en50291();
      break;
    case 'combustible': {
      const src = 'GB/T 50493-2019';
      for (const g of COMBUSTIBLE_GASES) {
        b.level(g, 'low', COMBUSTIBLE.lowLel, 'combustible', `${src} first alarm`);
        b.level(g, 'high', COMBUSTIBLE.highLel, 'combustible', `${src} second alarm`);
      }
      if ((options.combustibleCo ?? 'en50291') === 'ul2034') b.ul2034();
      else b.en50291();
      break;
    }
    case 'confined-space': {
      const cs = CONFINED_SPACE;
      const r = 'confined-space';
      b.level('O2', 'low', cs.o2LowPct, r, 'O2 deficiency', 'critical');
      b.level('O2', 'high', cs.o2HighPct, r, 'O2 enrichment', 'critical');
      for (const g of COMBUSTIBLE_GASES) {
        b.level(g, 'low', cs.lelLow, r, 'confined space low alarm');
        b.level(g, 'high', cs.lelHigh, r, 'confined space high alarm');
      }
      b.level('CO', 'low', cs.coLowPpm, r, 'confined space low alarm');
      b.level('CO', 'high', cs.coHighPpm, r, 'confined space high alarm');
      b.level('H2S', 'low', cs.h2sLowPpm, r, 'confined space low alarm');
      b.level('H2S', 'high', cs.h2sHighPpm, r, 'confined space high alarm');
      for (const l of options.stelTwa ?? GBZ21_LIMITS) b.exposure(l);
      break;
    }
    default:
      throw new AlarmInputError('unknown_profile', `unknown alarm profile '${String(profile)}'`, { profile });
  }
  if (profile !== 'confined-space') for (const l of options.stelTwa ?? []) b.exposure(l);
  b.faults();
  return b.defs;
}
var STATUSES = ['ok', 'warmup', 'fault', 'calibrating', 'bump_test'];
function validate(sample, lastTs) {
  if (typeof sample !== 'object' || sample === null) {
    throw new AlarmInputError('invalid_sample', 'sample must be an object');
  }
  if (typeof sample.ts !== 'number' || !Number.isFinite(sample.ts)) {
    throw new AlarmInputError(
      'invalid_sample',
      `sample ts must be finite ms since epoch, got ${String(sample.ts)}`,
      {
        ts: sample.ts,
      },
    );
  }
  if (!STATUSES.includes(sample.status)) {
    throw new AlarmInputError('invalid_sample', `unknown sample status '${String(sample.status)}'`, {
      status: sample.status,
    });
  }
  if (typeof sample.values !== 'object' || sample.values === null || Array.isArray(sample.values)) {
    throw new AlarmInputError(
      'invalid_sample',
      'sample values must be an object of gas \u2192 concentration',
      {
        values: sample.values,
      },
    );
  }
  for (const [gas, v] of Object.entries(sample.values)) {
    if (!(gas in GASES))
      throw new AlarmInputError('invalid_sample', `unknown gas '${gas}' in sample`, { gas });
    if (v !== void 0 && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) {
      throw new AlarmInputError(
        'invalid_sample',
        `${gas} value must be a finite number \u2265 0, got ${String(v)}`,
        {
          gas,
          value: v,
        },
      );
    }
  }
  if (lastTs !== null && sample.ts < lastTs) {
    throw new AlarmInputError(
      'out_of_order',
      `sample at ${new Date(sample.ts).toISOString()} is older than the last one (${new Date(lastTs).toISOString()}); feed samples in time order`,
      { ts: sample.ts, lastTs },
    );
  }
}
function usable(sample, gas) {
  if (sample.quality?.[gas] === 'bad') return void 0;
  return sample.values[gas];
}
function createRuleSet(profile, options = {}) {
  const defs = buildDefs(profile, options);
  const maxGapMs = nonNegative('maxGapS', options.maxGapS, DEFAULTS.maxGapS) * 1e3;
  const faultCodes = options.faultCodes ?? ['sensor_eol'];
  function initial() {
    return { lastTs: null, lastGasTs: {}, warmupSince: null, measures: {}, thresholds: {}, active: {} };
  }
  function step(state, sample) {
    validate(sample, state.lastTs);
    const { ts } = sample;
    const gasOk = sample.status === 'ok';
    const measures = { ...state.measures };
    const thresholds = { ...state.thresholds };
    const active = { ...state.active };
    const lastGasTs = { ...state.lastGasTs };
    const warmupSince = sample.status === 'warmup' ? (state.warmupSince ?? ts) : null;
    const events = [];
    for (const def of defs) {
      const m = def.measure;
      let value;
      let restart = false;
      switch (m.kind) {
        case 'fault':
          value =
            sample.status === 'fault' || (sample.faults ?? []).some((f) => faultCodes.includes(f)) ? 1 : 0;
          break;
        case 'warmup':
          value = warmupSince === null ? 0 : (ts - warmupSince) / 1e3;
          break;
        default: {
          const c = gasOk ? usable(sample, m.gas) : void 0;
          if (c === void 0) continue;
          const prevTs = state.lastGasTs[m.gas];
          restart = prevTs === void 0 || ts - prevTs > maxGapMs;
          if (m.kind === 'instant') {
            value = c * m.factor;
          } else if (m.kind === 'dose') {
            const prev = measures[def.key];
            let dose = prev?.dose ?? 0;
            if (prev && ts - prev.t <= maxGapMs) dose = doseStep(dose, prev.c, ts - prev.t, m.tauMin);
            measures[def.key] = { dose, c, t: ts };
            value = dose;
          } else {
            const prev = measures[def.key] ?? createWindow(m.windowMs);
            const r2 = windowStep(prev, ts, c, maxGapMs);
            measures[def.key] = r2.state;
            value = r2.mean * m.factor;
          }
        }
      }
      const ths = thresholds[def.key] ?? THRESHOLD_IDLE;
      const r = thresholdStep(ths, value, ts, def.spec, restart);
      if (r.state !== ths) thresholds[def.key] = r.state;
      if (r.change === 'raised') {
        const cond = conditionOf(def, value, false);
        active[def.key] = cond;
        events.push({ type: 'raised', ts, condition: cond });
      } else if (r.change === 'cleared') {
        delete active[def.key];
        events.push({ type: 'cleared', ts, condition: conditionOf(def, value, true) });
      } else if (r.state.active) {
        active[def.key] = conditionOf(def, value, false);
      }
    }
    if (gasOk) {
      for (const g of Object.keys(sample.values)) if (usable(sample, g) !== void 0) lastGasTs[g] = ts;
    }
    const next = { lastTs: ts, lastGasTs, warmupSince, measures, thresholds, active };
    const list = [];
    for (const def of defs) {
      const a = active[def.key];
      if (a) list.push(a);
    }
    return { state: next, events, active: list };
  }
  return {
    profile,
    initial,
    step,
    conditions: defs.map((d) => ({
      key: d.key,
      rule: d.rule,
      ...(d.gas !== void 0 ? { gas: d.gas } : {}),
      severity: d.severity,
      unit: d.unit,
      setPoint: d.spec.setPoint,
      op: d.spec.op,
      band: d.spec.band,
      onDelayMs: d.spec.onDelayMs,
    })),
  };
}
function profileForKind(kind, household = 'en50291') {
  switch (kind) {
    case 'household-co':
      return household;
    case 'multigas':
      return 'confined-space';
    case 'combustible':
      return 'combustible';
    default:
      throw new AlarmInputError('unknown_profile', `no alarm profile for device kind '${String(kind)}'`, {
        kind,
      });
  }
}

// ../shared/src/ids.ts
import { z as z2 } from 'zod';

var ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
var IdSchema = z2
  .string()
  .regex(ID_PATTERN, 'must match ^[a-z0-9][a-z0-9_-]{0,63}$')
  .describe('Gateway or device id: lowercase letters, digits, _ and -, 1 to 64 characters');

// ../shared/src/profiles.ts
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z as z4 } from 'zod';

// ../shared/src/registers.ts
var REGISTER_TYPES = ['uint16', 'int16', 'uint32', 'int32', 'float32'];
function registerCount(type) {
  return type === 'uint16' || type === 'int16' ? 1 : 2;
}
function decodeRegisters(regs, type, order = 'be') {
  const n = registerCount(type);
  if (regs.length < n) throw new RangeError(`${type} needs ${n} registers, got ${regs.length}`);
  const buf = Buffer.alloc(4);
  if (n === 1) {
    buf.writeUInt16BE(regs[0] & 65535, 0);
    return type === 'int16' ? buf.readInt16BE(0) : buf.readUInt16BE(0);
  }
  const [hi, lo] = order === 'be' ? [regs[0], regs[1]] : [regs[1], regs[0]];
  buf.writeUInt16BE(hi & 65535, 0);
  buf.writeUInt16BE(lo & 65535, 2);
  if (type === 'uint32') return buf.readUInt32BE(0);
  if (type === 'int32') return buf.readInt32BE(0);
  return buf.readFloatBE(0);
}

// ../shared/src/schemas.ts
import { z as z3 } from 'zod';

var MAX_PAYLOAD_BYTES = 64 * 1024;
var IsoTimestamp = z3.iso
  .datetime({ offset: true, precision: 3 })
  .or(z3.iso.datetime({ offset: true }))
  .describe('ISO 8601 time, millisecond precision, e.g. 2026-11-23T18:00:00.000Z');
var Concentration = z3
  .number()
  .finite()
  .min(0)
  .max(1e6)
  .describe('Concentration in the canonical unit of the gas');
var ReadingStatusSchema = z3
  .enum(['ok', 'warmup', 'fault', 'calibrating', 'bump_test'])
  .describe('What the detector said about itself when this sample was taken');
var ReadingSchema = z3
  .object({
    v: z3.literal(1).describe('Payload version'),
    ts: IsoTimestamp.describe('Sampling time at the gateway'),
    seq: z3
      .number()
      .int()
      .min(0)
      .max(Number.MAX_SAFE_INTEGER)
      .describe('Per device, +1 per reading, persisted'),
    values: z3
      .partialRecord(GasIdSchema, Concentration)
      .refine((v) => Object.keys(v).length > 0, 'at least one channel')
      .describe('One sample of every channel, canonical units'),
    status: ReadingStatusSchema,
    faults: z3.array(z3.string().max(64)).max(32).optional().describe('Fault codes the detector reported'),
    quality: z3
      .partialRecord(GasIdSchema, z3.enum(['good', 'bad', 'uncertain']))
      .optional()
      .describe('Per-channel quality where a channel is doubtful'),
    alarm: z3
      .boolean()
      .optional()
      .describe("The detector's own alarm output at sampling time, where the profile exposes it"),
  })
  .strict();
var GatewayStatusSchema = z3.union([
  z3
    .object({
      v: z3.literal(1),
      online: z3.literal(true),
      ts: IsoTimestamp,
      version: z3.string().max(64).describe('Gateway software version'),
      uptimeS: z3.number().finite().min(0).describe('Seconds since the gateway process started'),
      outboxDepth: z3.number().int().min(0).describe('Readings waiting in the on-disk outbox'),
      outboxDropped: z3
        .number()
        .int()
        .min(0)
        .optional()
        .describe('Readings dropped because the outbox was full'),
      clockSkewS: z3
        .number()
        .finite()
        .optional()
        .describe('Gateway clock minus the broker/server view of time, seconds, when known'),
      clockSuspect: z3
        .boolean()
        .optional()
        .describe('True when the gateway clock is far from the broker time'),
    })
    .strict(),
  // The MQTT will message: the broker publishes it when the gateway vanishes.
  z3.object({ v: z3.literal(1), online: z3.literal(false), ts: IsoTimestamp.optional() }).strict(),
]);
var DeviceKindSchema = z3
  .enum(['household-co', 'multigas', 'combustible'])
  .describe('household-co | multigas (confined spaces) | combustible (fixed combustible-gas detector)');
var DeviceStateSchema = z3
  .object({
    v: z3.literal(1),
    ts: IsoTimestamp,
    online: z3.boolean().describe('False when the gateway cannot read the detector'),
    model: z3.string().max(64).describe('Detector profile id'),
    kind: DeviceKindSchema,
    site: z3.string().max(128).describe('Site the detector belongs to'),
    location: z3.string().max(128).describe('Where on the site, e.g. bathroom'),
    lastError: z3.string().max(512).nullable().describe('Why the last read failed, or null'),
    pollIntervalS: z3
      .number()
      .positive()
      .max(86400)
      .optional()
      .describe('How often the gateway polls this detector; the server derives the offline timeout from it'),
  })
  .strict();
var DeviceEventSchema = z3
  .object({
    v: z3.literal(1),
    ts: IsoTimestamp,
    type: z3
      .enum(['alarm_raised', 'alarm_cleared', 'interlock', 'fault', 'silenced'])
      .describe('What happened at the gateway'),
    severity: z3.enum(['info', 'warning', 'critical']).optional(),
    gas: GasIdSchema.optional(),
    rule: z3.string().max(64).optional().describe('The alarm rule that fired, e.g. ul2034'),
    value: z3.number().finite().optional(),
    outputs: z3
      .record(z3.string().max(32), z3.boolean())
      .optional()
      .describe('Local outputs switched, e.g. {"valve": false, "fan": true}'),
    message: z3.string().max(512).optional(),
  })
  .strict();
var CommandSchema = z3.discriminatedUnion('type', [
  z3
    .object({
      v: z3.literal(1),
      id: z3.string().min(1).max(64).describe('Command id, echoed in the result'),
      type: z3.literal('silence'),
      device: z3.string().max(64).optional().describe('Silence one device; all when absent'),
      alarmId: z3.string().max(128).optional(),
    })
    .strict(),
  z3.object({ v: z3.literal(1), id: z3.string().min(1).max(64), type: z3.literal('reload_config') }).strict(),
  z3
    .object({
      v: z3.literal(1),
      id: z3.string().min(1).max(64),
      type: z3.literal('bump_test'),
      device: z3.string().max(64),
    })
    .strict(),
]);
var CommandResultSchema = z3
  .object({
    v: z3.literal(1),
    id: z3.string().min(1).max(64),
    ok: z3.boolean(),
    ts: IsoTimestamp,
    message: z3.string().max(512).optional(),
  })
  .strict();

// ../shared/src/profiles.ts
var Address = z4
  .number()
  .int()
  .min(0)
  .max(65535)
  .describe('0-based Modbus protocol address (40001 \u2192 0)');
var ReadFunction = z4
  .union([z4.literal(3), z4.literal(4)])
  .default(3)
  .describe('Modbus function: 3 holding registers, 4 input registers');
var ModbusChannelSchema = z4
  .object({
    gas: GasIdSchema.describe('Which gas this channel measures (canonical unit of the gas catalogue)'),
    fc: ReadFunction,
    address: Address,
    type: z4.enum(REGISTER_TYPES).describe('Register encoding'),
    wordOrder: z4
      .enum(['be', 'le'])
      .default('be')
      .describe('32-bit types: be = high word first, le = low word first'),
    scale: z4
      .number()
      .positive()
      .optional()
      .describe('value = raw \xD7 scale (e.g. 0.1 for tenths of a ppm)'),
    decimalsRegister: Address.optional().describe(
      'value = raw / 10^(this register), read with the same function',
    ),
    fullScale: z4
      .number()
      .positive()
      .optional()
      .describe('Top of the sensor range; a larger raw value is marked bad'),
  })
  .strict()
  .refine((c) => !(c.scale !== void 0 && c.decimalsRegister !== void 0), {
    message: 'give scale or decimalsRegister, not both',
  });
var STATUS_FLAGS = ['alarm', 'lowAlarm', 'highAlarm', 'fault', 'warmup', 'bumpTest', 'calibrating', 'eol'];
var StatusWordSchema = z4
  .object({
    fc: ReadFunction,
    address: Address,
    bits: z4
      .partialRecord(z4.enum(STATUS_FLAGS), z4.number().int().min(0).max(15))
      .default({})
      .describe('Single-bit flags: meaning \u2192 bit number'),
    state: z4
      .object({
        shift: z4.number().int().min(0).max(15),
        width: z4.number().int().min(1).max(16),
        values: z4.record(z4.string().regex(/^\d+$/), ReadingStatusSchema),
      })
      .strict()
      .optional()
      .describe('A multi-bit state field (e.g. Midas bits 0\u20133): field value \u2192 reading status'),
  })
  .strict();
var OutputSchema = z4
  .object({
    name: z4.enum(['sounder', 'valve', 'fan']).describe('What the relay drives'),
    coil: Address.describe('Coil address (function 5 writes, function 1 reads)'),
    onAlarm: z4.boolean().describe('Coil value the gateway writes when a local alarm is active'),
    description: z4.string().optional(),
  })
  .strict();
var CommonProfile = {
  id: z4
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/)
    .describe('Profile id, referenced from the gateway config'),
  description: z4.string().describe('What detector model this is'),
  kind: DeviceKindSchema.describe('Device kind, which picks the alarm profile on the server'),
  warmupS: z4.number().int().min(0).default(0).describe('Seconds after power-on before readings are valid'),
};
var ModbusProfileSchema = z4
  .object({
    ...CommonProfile,
    transport: z4.literal('modbus'),
    channels: z4.array(ModbusChannelSchema).min(1).describe('Measured channels'),
    status: StatusWordSchema.optional(),
    faultCode: z4.object({ fc: ReadFunction, address: Address }).strict().optional(),
    outputs: z4.array(OutputSchema).default([]).describe('Relay coils the gateway may switch'),
  })
  .strict();
var WinsenProfileSchema = z4
  .object({
    ...CommonProfile,
    transport: z4.literal('winsen'),
    variant: z4.enum(['ze07', 'ze15']).describe('ze15: bit 7 of the high byte is the fault flag'),
    gas: GasIdSchema,
    baud: z4.number().int().default(9600),
  })
  .strict();
var ProfileSchema = z4.discriminatedUnion('transport', [ModbusProfileSchema, WinsenProfileSchema]);
var BUILTIN_PROFILE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'profiles');
var ProfileError = class extends Error {
  constructor(file, issues) {
    super(`${file}: ${issues.join('; ')}`);
    this.file = file;
    this.issues = issues;
    this.name = 'ProfileError';
  }
  file;
  issues;
  code = 'EPROFILE';
};
function loadProfileFile(file) {
  let doc;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ProfileError(file, [err.message]);
  }
  const parsed = ProfileSchema.safeParse(doc);
  if (!parsed.success) {
    throw new ProfileError(
      file,
      parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  const expected = basename(file, extname(file));
  if (parsed.data.id !== expected)
    throw new ProfileError(file, [`id "${parsed.data.id}" must match the file name "${expected}"`]);
  return parsed.data;
}
function loadProfiles(dirs = [BUILTIN_PROFILE_DIR]) {
  const out = /* @__PURE__ */ new Map();
  for (const dir of dirs) {
    for (const name of readdirSync(dir).sort()) {
      if (!/\.(ya?ml|json)$/.test(name)) continue;
      const p = loadProfileFile(join(dir, name));
      out.set(p.id, p);
    }
  }
  return out;
}

// ../shared/src/topics.ts
var TOPIC_ROOT = 'gaswatch/v1';
var TOPICS = {
  status: { schema: GatewayStatusSchema, qos: 1, retain: true },
  reading: { schema: ReadingSchema, qos: 1, retain: false },
  state: { schema: DeviceStateSchema, qos: 1, retain: true },
  event: { schema: DeviceEventSchema, qos: 1, retain: false },
  cmd: { schema: CommandSchema, qos: 1, retain: false },
  cmdResult: { schema: CommandResultSchema, qos: 1, retain: false },
};
var topics = {
  status: (gw) => `${TOPIC_ROOT}/${gw}/status`,
  reading: (gw, dev) => `${TOPIC_ROOT}/${gw}/${dev}/reading`,
  state: (gw, dev) => `${TOPIC_ROOT}/${gw}/${dev}/state`,
  event: (gw, dev) => `${TOPIC_ROOT}/${gw}/${dev}/event`,
  cmd: (gw) => `${TOPIC_ROOT}/${gw}/cmd`,
  cmdResult: (gw) => `${TOPIC_ROOT}/${gw}/cmd/result`,
};
var FILTERS = {
  /** Everything gateways publish (the server subscribes to this). */
  fromGateways: [
    `${TOPIC_ROOT}/+/status`,
    `${TOPIC_ROOT}/+/+/reading`,
    `${TOPIC_ROOT}/+/+/state`,
    `${TOPIC_ROOT}/+/+/event`,
    `${TOPIC_ROOT}/+/cmd/result`,
  ],
  cmd: (gw) => topics.cmd(gw),
};
function encodePayload(kind, payload) {
  const checked = TOPICS[kind].schema.parse(payload);
  return Buffer.from(JSON.stringify(checked));
}

// src/config.ts
import { parse as parseYaml2 } from 'yaml';
import { z as z5 } from 'zod';

// src/errors.ts
var GatewayError = class extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
  code;
};
var ConfigError = class extends GatewayError {
  constructor(file, issues) {
    super(
      'ECONFIG',
      `invalid gateway config ${file}:
${issues.map((i) => `  - ${i}`).join('\n')}`,
    );
    this.file = file;
    this.issues = issues;
  }
  file;
  issues;
};
var DriverError = class extends GatewayError {};
var TimeoutError = class extends DriverError {
  constructor(message) {
    super('ETIMEOUT', message);
  }
};
var CrcError = class extends DriverError {
  constructor(message, frame) {
    super('ECRC', message);
    this.frame = frame;
  }
  frame;
};
var FrameError = class extends DriverError {
  constructor(message, frame) {
    super('EFRAME', message);
    this.frame = frame;
  }
  frame;
};
var ModbusExceptionError = class extends DriverError {
  constructor(exceptionCode, functionCode) {
    super(
      'EMODBUS_EXCEPTION',
      `Modbus exception ${exceptionCode} (${EXCEPTION_NAMES[exceptionCode] ?? 'unknown'}) on function ${functionCode}`,
    );
    this.exceptionCode = exceptionCode;
    this.functionCode = functionCode;
  }
  exceptionCode;
  functionCode;
};
var PortError = class extends DriverError {
  constructor(message, options) {
    super('EPORT', message, options);
  }
};
var EXCEPTION_NAMES = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'server device failure',
  5: 'acknowledge',
  6: 'server device busy',
  8: 'memory parity error',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond',
};

// src/config.ts
var PollInterval = z5.number().positive().max(86400).describe('Seconds between two polls of this detector');
var AlarmStandardSchema = z5
  .enum(['en50291', 'ul2034'])
  .describe('Household CO alarm curve the local alarms use (SPEC \xA76)');
var DeviceConfigSchema = z5
  .object({
    id: IdSchema.describe('Device id, unique on this gateway; part of every MQTT topic of the device'),
    unit: z5
      .number()
      .int()
      .min(1)
      .max(247)
      .default(1)
      .describe('Modbus unit (slave) address; ignored for Winsen modules'),
    profile: z5.string().min(1).describe('Detector profile id (shared/profiles or one of profileDirs)'),
    pollIntervalS: PollInterval.default(5),
    site: z5.string().min(1).max(128).describe('Site the detector belongs to (e.g. liujiang-12-3-501)'),
    location: z5.string().min(1).max(128).describe('Where on the site (e.g. bathroom)'),
    timeoutMs: z5
      .number()
      .int()
      .positive()
      .max(6e4)
      .optional()
      .describe('Answer timeout; default: the bus timeoutMs'),
    retries: z5
      .number()
      .int()
      .min(0)
      .max(10)
      .optional()
      .describe('Retries of a failed read; default: the bus retries'),
    localAlarms: z5
      .boolean()
      .default(true)
      .describe('Evaluate the shared alarm math for this detector on the gateway'),
    outputs: z5
      .boolean()
      .default(true)
      .describe("Switch the profile's relay coils (sounder, valve, fan) when a local alarm is active"),
  })
  .strict();
var BusCommon = {
  id: IdSchema.describe('Bus id, used in logs (e.g. rs485-0)'),
  timeoutMs: z5
    .number()
    .int()
    .positive()
    .max(6e4)
    .default(300)
    .describe('Default answer timeout per request'),
  retries: z5
    .number()
    .int()
    .min(0)
    .max(10)
    .default(1)
    .describe('Default retries of a failed read before it counts as failed'),
  offlineAfter: z5
    .number()
    .int()
    .min(1)
    .max(100)
    .default(3)
    .describe('Consecutive failed polls after which a detector is marked offline'),
  offlinePollS: z5
    .number()
    .positive()
    .max(3600)
    .default(30)
    .describe('While offline, a detector is polled only this often, so it costs the others nothing'),
};
var ModbusRtuBusSchema = z5
  .object({
    ...BusCommon,
    type: z5.literal('modbus-rtu'),
    path: z5.string().min(1).describe('Serial device, e.g. /dev/ttyUSB0 or /dev/serial/by-id/...'),
    baudRate: z5.number().int().positive().default(9600).describe('Baud rate'),
    parity: z5.enum(['none', 'even', 'odd']).default('even').describe('Parity (Modbus default: even)'),
    dataBits: z5
      .union([z5.literal(7), z5.literal(8)])
      .default(8)
      .describe('Data bits'),
    stopBits: z5
      .union([z5.literal(1), z5.literal(2)])
      .default(1)
      .describe('Stop bits'),
    interFrameGapMs: z5
      .number()
      .min(0)
      .max(1e3)
      .optional()
      .describe('Silence between frames; default 3.5 character times (1.75 ms above 19200 baud)'),
    reopenMs: z5
      .number()
      .int()
      .positive()
      .max(6e5)
      .default(2e3)
      .describe('Retry interval when the port cannot be opened (unplugged adapter)'),
    devices: z5.array(DeviceConfigSchema).min(1).describe('Detectors on this line'),
  })
  .strict();
var ModbusTcpBusSchema = z5
  .object({
    ...BusCommon,
    type: z5.literal('modbus-tcp'),
    host: z5.string().min(1).describe('Modbus TCP server or RTU-over-TCP gateway host'),
    port: z5.number().int().min(1).max(65535).default(502).describe('TCP port'),
    reopenMs: z5
      .number()
      .int()
      .positive()
      .max(6e5)
      .default(2e3)
      .describe('Reconnect interval after a lost connection'),
    devices: z5.array(DeviceConfigSchema).min(1).describe('Detectors behind this connection'),
  })
  .strict();
var WinsenBusSchema = z5
  .object({
    ...BusCommon,
    timeoutMs: BusCommon.timeoutMs.default(1500),
    type: z5.literal('winsen'),
    path: z5.string().min(1).describe('Serial device of the UART module'),
    mode: z5
      .enum(['active', 'qa'])
      .default('qa')
      .describe('qa: the gateway asks on every poll; active: the module uploads once a second'),
    reopenMs: z5
      .number()
      .int()
      .positive()
      .max(6e5)
      .default(2e3)
      .describe('Retry interval when the port cannot be opened'),
    devices: z5
      .array(DeviceConfigSchema)
      .length(1)
      .describe('Exactly one module: a UART line carries one detector'),
  })
  .strict();
var BusConfigSchema = z5.discriminatedUnion('type', [
  ModbusRtuBusSchema,
  ModbusTcpBusSchema,
  WinsenBusSchema,
]);
var GatewayConfigSchema = z5
  .object({
    gatewayId: IdSchema.describe('Gateway id; the {gw} of every topic'),
    uplink: z5
      .object({
        url: z5
          .string()
          .regex(/^(mqtts?|wss?|tcp|ssl):\/\//, 'must be an mqtt://, mqtts://, ws:// or wss:// URL')
          .describe('MQTT broker URL'),
        username: z5.string().optional().describe('MQTT user name'),
        password: z5.string().optional().describe('MQTT password'),
        ca: z5.string().optional().describe('TLS: CA certificate file (PEM)'),
        cert: z5.string().optional().describe('TLS: client certificate file (PEM)'),
        key: z5.string().optional().describe('TLS: client key file (PEM)'),
        clientId: z5.string().max(128).optional().describe('MQTT client id; default gaswatch-gw-{gatewayId}'),
        keepaliveS: z5
          .number()
          .int()
          .min(5)
          .max(3600)
          .default(30)
          .describe('MQTT keepalive; the will fires after ~1.5 \xD7 this'),
        reconnectMs: z5
          .number()
          .int()
          .positive()
          .max(6e5)
          .default(2e3)
          .describe('Pause between reconnect attempts'),
        statusIntervalS: z5
          .number()
          .positive()
          .max(3600)
          .default(30)
          .describe('How often the retained status is refreshed'),
      })
      .strict()
      .describe('Where the gateway publishes'),
    outbox: z5
      .object({
        dir: z5
          .string()
          .min(1)
          .describe('Directory of the on-disk outbox (LevelDB); relative to the config file'),
        maxReadings: z5
          .number()
          .int()
          .min(10)
          .max(5e7)
          .default(1e6)
          .describe(
            'Bound of the outbox; when full the oldest readings are dropped, counted in status and logged',
          ),
        replayRatePerS: z5
          .number()
          .positive()
          .max(1e5)
          .default(200)
          .describe('Publish rate while replaying a backlog after an outage'),
        maxInflight: z5
          .number()
          .int()
          .min(1)
          .max(1e3)
          .default(20)
          .describe('QoS 1 publishes awaiting PUBACK at once'),
      })
      .strict(),
    clock: z5
      .object({
        maxSkewS: z5
          .number()
          .positive()
          .default(120)
          .describe('Skew beyond which the status says clockSuspect'),
        referenceTopic: z5
          .string()
          .optional()
          .describe(
            'MQTT topic carrying the reference time (ISO 8601 or epoch ms); e.g. a retained server time',
          ),
        referenceUrl: z5
          .string()
          .url()
          .optional()
          .describe('HTTP URL whose Date header is the reference time'),
      })
      .strict()
      .default({ maxSkewS: 120 })
      .describe('Clock sanity check (a Raspberry Pi has no real-time clock)'),
    alarms: z5
      .object({
        householdStandard: AlarmStandardSchema.default('en50291'),
        household: z5
          .boolean()
          .default(false)
          .describe('Combustible detectors in homes: first alarm at 10 %LEL (GB 15322)'),
      })
      .strict()
      .default({ householdStandard: 'en50291', household: false })
      .describe('Local alarm rules'),
    profileDirs: z5
      .array(z5.string())
      .default([])
      .describe('Extra folders of profile files; later ones override built-ins'),
    logLevel: z5
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace'])
      .default('info')
      .describe('Log level'),
    buses: z5.array(BusConfigSchema).min(1).describe('Serial lines and TCP connections with their detectors'),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const devIds = /* @__PURE__ */ new Map();
    const busIds = /* @__PURE__ */ new Set();
    cfg.buses.forEach((bus, b) => {
      if (busIds.has(bus.id))
        ctx.addIssue({ code: 'custom', path: ['buses', b, 'id'], message: `duplicate bus id "${bus.id}"` });
      busIds.add(bus.id);
      const units = /* @__PURE__ */ new Set();
      bus.devices.forEach((d, i) => {
        const prev = devIds.get(d.id);
        if (prev)
          ctx.addIssue({
            code: 'custom',
            path: ['buses', b, 'devices', i, 'id'],
            message: `duplicate device id "${d.id}" (also at ${prev})`,
          });
        devIds.set(d.id, `buses.${b}.devices.${i}`);
        if (bus.type !== 'winsen') {
          if (units.has(d.unit))
            ctx.addIssue({
              code: 'custom',
              path: ['buses', b, 'devices', i, 'unit'],
              message: `unit ${d.unit} used twice on bus "${bus.id}"`,
            });
          units.add(d.unit);
        }
      });
    });
  });
function formatIssues(error) {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
}
function parseConfig(doc, file = '(inline)', baseDir = process.cwd()) {
  const parsed = GatewayConfigSchema.safeParse(doc);
  if (!parsed.success) throw new ConfigError(file, formatIssues(parsed.error));
  const cfg = parsed.data;
  const abs = (p) => (isAbsolute(p) ? p : resolve(baseDir, p));
  cfg.outbox.dir = abs(cfg.outbox.dir);
  cfg.profileDirs = cfg.profileDirs.map(abs);
  return cfg;
}
function loadConfig(file) {
  let text;
  try {
    text = readFileSync2(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [`(file): ${err.message}`]);
  }
  let doc;
  try {
    doc = parseYaml2(text, { prettyErrors: true });
  } catch (err) {
    throw new ConfigError(file, [`(yaml): ${err.message}`]);
  }
  const cfg = parseConfig(doc, file, dirname2(resolve(file)));
  checkProfiles(cfg, file);
  return cfg;
}
function loadConfigProfiles(cfg, file = '(inline)') {
  try {
    return loadProfiles([BUILTIN_PROFILE_DIR, ...cfg.profileDirs]);
  } catch (err) {
    throw new ConfigError(file, [`profileDirs: ${err.message}`]);
  }
}
function checkProfiles(cfg, file = '(inline)', profiles = loadConfigProfiles(cfg, file)) {
  const issues = [];
  cfg.buses.forEach((bus, b) => {
    bus.devices.forEach((d, i) => {
      const p = profiles.get(d.profile);
      const path = `buses.${b}.devices.${i}.profile`;
      if (!p)
        issues.push(`${path}: unknown profile "${d.profile}" (known: ${[...profiles.keys()].join(', ')})`);
      else if (bus.type === 'winsen' && p.transport !== 'winsen')
        issues.push(
          `${path}: profile "${d.profile}" is a ${p.transport} profile, bus "${bus.id}" is a winsen UART`,
        );
      else if (bus.type !== 'winsen' && p.transport !== 'modbus')
        issues.push(`${path}: profile "${d.profile}" is a ${p.transport} profile, bus "${bus.id}" is Modbus`);
    });
  });
  if (issues.length) throw new ConfigError(file, issues);
  return profiles;
}

// src/gateway.ts
import { EventEmitter as EventEmitter2 } from 'node:events';

// src/clock.ts
var systemClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h),
};

// src/drivers/modbus-rtu/driver.ts
import { performance as performance2 } from 'node:perf_hooks';

// src/modbus/profile-reader.ts
var MAX_REGS = 125;
function planReads(profile, maxGap = 4) {
  const wanted = /* @__PURE__ */ new Map([
    [3, /* @__PURE__ */ new Set()],
    [4, /* @__PURE__ */ new Set()],
  ]);
  const add = (fc, address, n = 1) => {
    for (let i = 0; i < n; i++) wanted.get(fc).add(address + i);
  };
  for (const c of profile.channels) {
    add(c.fc, c.address, registerCount(c.type));
    if (c.decimalsRegister !== void 0) add(c.fc, c.decimalsRegister);
  }
  if (profile.status) add(profile.status.fc, profile.status.address);
  if (profile.faultCode) add(profile.faultCode.fc, profile.faultCode.address);
  const blocks = [];
  for (const [fc, set] of wanted) {
    const addrs = [...set].sort((a, b) => a - b);
    let cur;
    for (const a of addrs) {
      if (cur && a - (cur.address + cur.count) <= maxGap && a - cur.address + 1 <= MAX_REGS) {
        cur.count = a - cur.address + 1;
      } else {
        cur = { fc, address: a, count: 1 };
        blocks.push(cur);
      }
    }
  }
  return blocks;
}
function storeBlock(image, block, regs) {
  if (regs.length < block.count)
    throw new DriverError('EFRAME', `asked ${block.count} registers, got ${regs.length}`);
  let m = image.get(block.fc);
  if (!m) {
    m = /* @__PURE__ */ new Map();
    image.set(block.fc, m);
  }
  for (let i = 0; i < block.count; i++) m.set(block.address + i, regs[i]);
}
function reg(image, fc, address) {
  const v = image.get(fc)?.get(address);
  if (v === void 0) throw new DriverError('EPLAN', `register ${fc}:${address} was not read`);
  return v;
}
function decodeSample(profile, image, ts) {
  const values = {};
  const quality = {};
  for (const c of profile.channels) {
    const n = registerCount(c.type);
    const regs = [];
    for (let i = 0; i < n; i++) regs.push(reg(image, c.fc, c.address + i));
    const raw = decodeRegisters(regs, c.type, c.wordOrder);
    let v = raw;
    if (c.scale !== void 0) v = raw * c.scale;
    else if (c.decimalsRegister !== void 0) {
      const dec = reg(image, c.fc, c.decimalsRegister);
      if (dec > 6) {
        quality[c.gas] = 'bad';
        continue;
      }
      v = raw / 10 ** dec;
    }
    if (!Number.isFinite(v)) {
      quality[c.gas] = 'bad';
      continue;
    }
    v = Math.round(v * 1e6) / 1e6;
    if (v < 0) {
      quality[c.gas] = 'uncertain';
      v = 0;
    }
    if (c.fullScale !== void 0 && v > c.fullScale) quality[c.gas] = 'bad';
    values[c.gas] = Math.min(v, 1e6);
  }
  if (Object.keys(values).length === 0) {
    throw new DriverError('EVALUE', `no usable channel value (${Object.keys(quality).join(', ')} bad)`);
  }
  const sample = { ts, values, status: 'ok' };
  if (Object.keys(quality).length) sample.quality = quality;
  const faults = [];
  if (profile.status) {
    const word = reg(image, profile.status.fc, profile.status.address);
    const bit = (b) => b !== void 0 && ((word >> b) & 1) === 1;
    const bits = profile.status.bits;
    let status = 'ok';
    if (profile.status.state) {
      const { shift, width, values: map } = profile.status.state;
      const field = (word >> shift) & ((1 << width) - 1);
      status = map[String(field)] ?? 'ok';
    }
    const rank = { ok: 0, warmup: 1, bump_test: 2, calibrating: 3, fault: 4 };
    const raise = (s) => {
      if (rank[s] > rank[status]) status = s;
    };
    if (bit(bits.warmup)) raise('warmup');
    if (bit(bits.bumpTest)) raise('bump_test');
    if (bit(bits.calibrating)) raise('calibrating');
    if (bit(bits.fault)) {
      raise('fault');
      faults.push('fault');
    }
    if (bit(bits.eol)) faults.push('sensor_eol');
    if (bits.alarm !== void 0 || bits.lowAlarm !== void 0 || bits.highAlarm !== void 0) {
      sample.alarm = bit(bits.alarm) || bit(bits.lowAlarm) || bit(bits.highAlarm);
    }
    sample.status = status;
  }
  if (profile.faultCode) {
    const code = reg(image, profile.faultCode.fc, profile.faultCode.address);
    if (code !== 0) faults.push(`code_${code}`);
  }
  if (faults.length) sample.faults = faults;
  return sample;
}

// src/drivers/serial-line.ts
import { SerialPort } from 'serialport';

function createSerialLine(opts) {
  const log = opts.logger;
  let port;
  let stopped = true;
  let timer;
  let opened = false;
  let everOpened = false;
  let lastOpenError = '';
  const scheduleReopen = () => {
    if (stopped || timer !== void 0) return;
    timer = opts.clock.setTimeout(() => {
      timer = void 0;
      void tryOpen();
    }, opts.reopenMs);
  };
  const tryOpen = async () => {
    if (stopped) return;
    const p = new SerialPort({
      path: opts.path,
      baudRate: opts.baudRate,
      parity: opts.parity,
      dataBits: opts.dataBits,
      stopBits: opts.stopBits,
      autoOpen: false,
    });
    try {
      await new Promise((resolve2, reject) => p.open((err) => (err ? reject(err) : resolve2())));
    } catch (err) {
      const msg = err.message;
      if (msg !== lastOpenError) log.error({ err, path: opts.path }, 'cannot open serial port; retrying');
      lastOpenError = msg;
      scheduleReopen();
      return;
    }
    if (stopped) {
      p.close();
      return;
    }
    lastOpenError = '';
    port = p;
    opened = true;
    p.on('data', opts.onData);
    p.on('error', (err) => log.error({ err, path: opts.path }, 'serial port error'));
    p.on('close', () => {
      if (port !== p) return;
      port = void 0;
      opened = false;
      if (stopped) return;
      log.error({ path: opts.path }, 'serial port closed (adapter unplugged?); reopening');
      scheduleReopen();
    });
    log.info(
      { path: opts.path, baudRate: opts.baudRate },
      everOpened ? 'serial port reopened' : 'serial port open',
    );
    const first = !everOpened;
    everOpened = true;
    opts.onOpen?.(first);
  };
  return {
    get open() {
      return opened;
    },
    async start() {
      stopped = false;
      await tryOpen();
    },
    async stop() {
      stopped = true;
      if (timer !== void 0) opts.clock.clearTimeout(timer);
      timer = void 0;
      const p = port;
      port = void 0;
      opened = false;
      if (p?.isOpen) await new Promise((resolve2) => p.close(() => resolve2()));
    },
    write(buf) {
      const p = port;
      if (!p) return Promise.reject(new PortError(`serial port ${opts.path} is not open`));
      return new Promise((resolve2, reject) => {
        p.write(buf, (err) => {
          if (err) reject(new PortError(`write to ${opts.path} failed: ${err.message}`, { cause: err }));
          else p.drain((e) => (e ? reject(new PortError(e.message, { cause: e })) : resolve2()));
        });
      });
    },
  };
}

// src/drivers/serial-queue.ts
function createSerialQueue() {
  let tail = Promise.resolve();
  let depth = 0;
  return {
    get depth() {
      return depth;
    },
    run(fn) {
      depth++;
      const result = tail.then(fn, fn);
      tail = result.then(
        () => {
          depth--;
        },
        () => {
          depth--;
        },
      );
      return result;
    },
  };
}

// src/drivers/modbus-rtu/frame.ts
function crc16(buf, end = buf.length) {
  let crc = 65535;
  for (let i = 0; i < end; i++) {
    crc ^= buf[i];
    for (let b = 0; b < 8; b++) crc = crc & 1 ? (crc >>> 1) ^ 40961 : crc >>> 1;
  }
  return crc;
}
function withCrc(body) {
  const buf = Buffer.alloc(body.length + 2);
  body.forEach((b, i) => {
    buf[i] = b;
  });
  buf.writeUInt16LE(crc16(buf, body.length), body.length);
  return buf;
}
function readRequest(unit, fc, address, count) {
  const frame = withCrc([unit, fc, address >> 8, address & 255, count >> 8, count & 255]);
  const dataBytes = fc === 1 ? Math.ceil(count / 8) : count * 2;
  return { unit, fc, frame, responseLength: 5 + dataBytes };
}
function writeCoilRequest(unit, address, value) {
  const frame = withCrc([unit, 5, address >> 8, address & 255, value ? 255 : 0, 0]);
  return { unit, fc: 5, frame, responseLength: 8 };
}
function matchResponse(req, buf) {
  let crcFailure;
  for (let off = 0; off + 2 <= buf.length; off++) {
    if (buf[off] !== req.unit) continue;
    const fc = buf[off + 1];
    let len;
    if (fc === req.fc) len = req.responseLength;
    else if (fc === (req.fc | 128)) len = 5;
    else continue;
    if (off + len > buf.length) return { kind: 'incomplete' };
    const frame = buf.subarray(off, off + len);
    if (crc16(frame, len - 2) !== frame.readUInt16LE(len - 2)) {
      crcFailure ??= Buffer.from(frame);
      continue;
    }
    if (fc & 128) return { kind: 'error', error: new ModbusExceptionError(frame[2], req.fc) };
    if ((req.fc === 3 || req.fc === 4 || req.fc === 1) && frame[2] !== len - 5) {
      return {
        kind: 'error',
        error: new FrameError(`byte count ${frame[2]} does not match the request`, Buffer.from(frame)),
      };
    }
    return { kind: 'ok', pdu: Buffer.from(frame.subarray(1, len - 2)), skipped: off };
  }
  if (crcFailure) return { kind: 'error', error: crcErr(req, crcFailure) };
  return { kind: 'incomplete' };
}
function crcErr(req, frame) {
  return new CrcError(`CRC error in the answer of unit ${req.unit} (${frame.toString('hex')})`, frame);
}
function registersOf(pdu) {
  const n = pdu[1] / 2;
  const out = [];
  for (let i = 0; i < n; i++) out.push(pdu.readUInt16BE(2 + i * 2));
  return out;
}
function coilsOf(pdu, count) {
  const out = [];
  for (let i = 0; i < count; i++) out.push(((pdu[2 + (i >> 3)] >> (i & 7)) & 1) === 1);
  return out;
}
function bitsPerChar(dataBits, parity, stopBits) {
  return 1 + dataBits + (parity === 'none' ? 0 : 1) + stopBits;
}
function interFrameGapMs(baudRate, charBits) {
  if (baudRate > 19200) return 1.75;
  return (3.5 * charBits * 1e3) / baudRate;
}

// src/drivers/modbus-rtu/driver.ts
var createModbusRtuDriver = (bus, deps) => createRtu(bus, deps);
function createRtu(bus, deps) {
  const log = deps.logger;
  const gapMs =
    bus.interFrameGapMs ?? interFrameGapMs(bus.baudRate, bitsPerChar(bus.dataBits, bus.parity, bus.stopBits));
  const queue = createSerialQueue();
  const stats = { requests: 0, timeouts: 0, crcErrors: 0, exceptions: 0, noiseBytes: 0 };
  const plans = /* @__PURE__ */ new WeakMap();
  let rx = Buffer.alloc(0);
  let lastActivity = 0;
  let onRx;
  const line = createSerialLine({
    path: bus.path,
    baudRate: bus.baudRate,
    parity: bus.parity,
    dataBits: bus.dataBits,
    stopBits: bus.stopBits,
    reopenMs: bus.reopenMs,
    logger: log,
    clock: deps.clock,
    onData(chunk) {
      lastActivity = performance2.now();
      rx = rx.length ? Buffer.concat([rx, chunk]) : chunk;
      if (rx.length > 4096) rx = rx.subarray(rx.length - 512);
      onRx?.();
    },
    onOpen(first) {
      if (!first) deps.onReopen?.();
    },
  });
  async function waitGap() {
    for (let i = 0; i < 100; i++) {
      const wait = lastActivity + gapMs - performance2.now();
      if (wait <= 0) return;
      await new Promise((r) => setTimeout(r, Math.ceil(wait)));
    }
  }
  function transactOnce(req, timeoutMs) {
    return queue.run(async () => {
      if (!line.open) throw new PortError(`serial port ${bus.path} is not open`);
      await waitGap();
      if (rx.length) {
        stats.noiseBytes += rx.length;
        log.warn(
          { unit: req.unit, bytes: rx.length, data: rx.subarray(0, 32).toString('hex') },
          'discarded stray bytes on the line',
        );
        rx = Buffer.alloc(0);
      }
      stats.requests++;
      const result = new Promise((resolve2, reject) => {
        const timer = setTimeout(() => {
          onRx = void 0;
          const got = rx;
          rx = Buffer.alloc(0);
          if (got.length) {
            stats.noiseBytes += got.length;
            reject(
              new FrameError(
                `no valid answer from unit ${req.unit}; ${got.length} bytes of noise: ${got.subarray(0, 32).toString('hex')}`,
                got,
              ),
            );
          } else {
            stats.timeouts++;
            reject(new TimeoutError(`unit ${req.unit} did not answer within ${timeoutMs} ms`));
          }
        }, timeoutMs);
        onRx = () => {
          const m = matchResponse(req, rx);
          if (m.kind === 'incomplete') return;
          clearTimeout(timer);
          onRx = void 0;
          rx = Buffer.alloc(0);
          if (m.kind === 'error') {
            if (m.error instanceof ModbusExceptionError) stats.exceptions++;
            else if (m.error.code === 'ECRC') stats.crcErrors++;
            reject(m.error);
            return;
          }
          if (m.skipped) {
            stats.noiseBytes += m.skipped;
            log.warn({ unit: req.unit, bytes: m.skipped }, 'noise before the answer skipped');
          }
          resolve2(m.pdu);
        };
      });
      result.catch(() => {});
      try {
        await line.write(req.frame);
      } catch (err) {
        onRx = void 0;
        throw err;
      }
      lastActivity = performance2.now();
      return result;
    });
  }
  async function transact(req, timeoutMs, retries, ulog = log) {
    for (let attempt = 0; ; attempt++) {
      try {
        return await transactOnce(req, timeoutMs);
      } catch (err) {
        const retryable =
          err instanceof DriverError && !(err instanceof ModbusExceptionError) && !(err instanceof PortError);
        if (!retryable || attempt >= retries) throw err;
        ulog.debug({ err: err.message, attempt: attempt + 1 }, 'retrying');
      }
    }
  }
  const timeoutOf = (d) => d.config.timeoutMs ?? bus.timeoutMs;
  const retriesOf = (d) => d.config.retries ?? bus.retries;
  return {
    get open() {
      return line.open;
    },
    stats: () => ({ ...stats }),
    start: () => line.start(),
    stop: () => line.stop(),
    async read(device) {
      const profile = device.profile;
      if (profile.transport !== 'modbus')
        throw new DriverError('EPROFILE', `profile ${profile.id} is not a Modbus profile`);
      let plan = plans.get(profile);
      if (!plan) {
        plan = planReads(profile);
        plans.set(profile, plan);
      }
      const image = /* @__PURE__ */ new Map();
      for (const block of plan) {
        const pdu = await transact(
          readRequest(device.config.unit, block.fc, block.address, block.count),
          timeoutOf(device),
          retriesOf(device),
          device.log,
        );
        storeBlock(image, block, registersOf(pdu));
      }
      return decodeSample(profile, image, deps.clock.now());
    },
    async readRegisters(unit, fc, address, count, timeoutMs = bus.timeoutMs) {
      return registersOf(await transact(readRequest(unit, fc, address, count), timeoutMs, 0));
    },
    async writeCoil(device, coil, value) {
      await transact(
        writeCoilRequest(device.config.unit, coil, value),
        timeoutOf(device),
        retriesOf(device),
        device.log,
      );
    },
    async readCoils(device, coil, count) {
      const pdu = await transact(
        readRequest(device.config.unit, 1, coil, count),
        timeoutOf(device),
        retriesOf(device),
        device.log,
      );
      return coilsOf(pdu, count);
    },
  };
}

// src/drivers/modbus-tcp/driver.ts
import mb from 'modbus-serial';

var ModbusRTU = mb.default;
function mapError(err, fc, what) {
  if (err instanceof DriverError) return err;
  const e = err;
  if (typeof e.modbusCode === 'number') return new ModbusExceptionError(e.modbusCode, fc);
  if (e.name === 'TransactionTimedOutError' || e.errno === 'ETIMEDOUT')
    return new TimeoutError(`${what} timed out`);
  if (e.name === 'PortNotOpenError' || /not open/i.test(e.message ?? ''))
    return new PortError(`${what}: connection not open`);
  if (/crc/i.test(e.message ?? '')) return new DriverError('ECRC', `${what}: ${e.message}`);
  return new DriverError('EMODBUS', `${what}: ${e.message ?? String(err)}`);
}
var createModbusTcpDriver = (bus, deps) => {
  const log = deps.logger;
  const queue = createSerialQueue();
  const plans = /* @__PURE__ */ new WeakMap();
  let client;
  let stopped = true;
  let timer;
  let everOpen = false;
  let lastError = '';
  const scheduleReconnect = () => {
    if (stopped || timer !== void 0) return;
    timer = deps.clock.setTimeout(() => {
      timer = void 0;
      void connect();
    }, bus.reopenMs);
  };
  async function connect() {
    if (stopped) return;
    const c = new ModbusRTU();
    c.on('error', (err) => log.debug({ err }, 'modbus tcp socket error'));
    try {
      await c.connectTCP(bus.host, { port: bus.port });
    } catch (err) {
      const msg = err.message;
      if (msg !== lastError)
        log.error({ err: msg, host: bus.host, port: bus.port }, 'cannot connect; retrying');
      lastError = msg;
      scheduleReconnect();
      return;
    }
    if (stopped) {
      c.close(() => {});
      return;
    }
    lastError = '';
    client = c;
    c.on('close', () => {
      if (client !== c) return;
      client = void 0;
      if (stopped) return;
      log.error({ host: bus.host, port: bus.port }, 'connection lost; reconnecting');
      scheduleReconnect();
    });
    log.info({ host: bus.host, port: bus.port }, everOpen ? 'reconnected' : 'connected');
    if (everOpen) deps.onReopen?.();
    everOpen = true;
  }
  function run(unit, timeoutMs, fc, what, fn) {
    return queue.run(async () => {
      const c = client;
      if (!c?.isOpen) throw new PortError(`${bus.host}:${bus.port} is not connected`);
      c.setID(unit);
      c.setTimeout(timeoutMs);
      try {
        return await fn(c);
      } catch (err) {
        throw mapError(err, fc, `unit ${unit} ${what}`);
      }
    });
  }
  async function withRetries(device, f) {
    const retries = device.config.retries ?? bus.retries;
    for (let attempt = 0; ; attempt++) {
      try {
        return await f();
      } catch (err) {
        const retryable = err instanceof TimeoutError || err.code === 'ECRC';
        if (!retryable || attempt >= retries) throw err;
      }
    }
  }
  const timeoutOf = (d) => d.config.timeoutMs ?? bus.timeoutMs;
  const driver = {
    get open() {
      return client?.isOpen === true;
    },
    async start() {
      stopped = false;
      await connect();
    },
    async stop() {
      stopped = true;
      if (timer !== void 0) deps.clock.clearTimeout(timer);
      timer = void 0;
      const c = client;
      client = void 0;
      if (c) await new Promise((resolve2) => c.close(() => resolve2()));
    },
    async read(device) {
      const profile = device.profile;
      if (profile.transport !== 'modbus')
        throw new DriverError('EPROFILE', `profile ${profile.id} is not a Modbus profile`);
      let plan = plans.get(profile);
      if (!plan) {
        plan = planReads(profile);
        plans.set(profile, plan);
      }
      const image = /* @__PURE__ */ new Map();
      for (const block of plan) {
        const regs = await withRetries(device, () =>
          run(
            device.config.unit,
            timeoutOf(device),
            block.fc,
            `read ${block.fc}:${block.address}+${block.count}`,
            async (c) =>
              block.fc === 3
                ? (await c.readHoldingRegisters(block.address, block.count)).data
                : (await c.readInputRegisters(block.address, block.count)).data,
          ),
        );
        storeBlock(image, block, regs);
      }
      return decodeSample(profile, image, deps.clock.now());
    },
    async writeCoil(device, coil, value) {
      await withRetries(device, () =>
        run(device.config.unit, timeoutOf(device), 5, `write coil ${coil}`, async (c) => {
          await c.writeCoil(coil, value);
        }),
      );
    },
    async readCoils(device, coil, count) {
      return withRetries(device, () =>
        run(device.config.unit, timeoutOf(device), 1, `read coils ${coil}+${count}`, async (c) =>
          (await c.readCoils(coil, count)).data.slice(0, count),
        ),
      );
    },
  };
  return driver;
};

// src/drivers/winsen/frame.ts
var FRAME_LENGTH = 9;
var QUERY = Buffer.from([255, 1, 134, 0, 0, 0, 0, 0, 121]);
var SET_QA = Buffer.from([255, 1, 120, 4, 0, 0, 0, 0, 131]);
var SET_ACTIVE = Buffer.from([255, 1, 120, 3, 0, 0, 0, 0, 132]);
function checksum(frame) {
  let sum = 0;
  for (let i = 1; i <= 7; i++) sum += frame[i];
  return (~sum + 1) & 255;
}
function decodeFrame(frame, variant) {
  let hi;
  let lo;
  let kind;
  if (frame[1] === 4) {
    kind = 'upload';
    hi = frame[4];
    lo = frame[5];
  } else if (frame[1] === 134) {
    kind = 'answer';
    hi = frame[2];
    lo = frame[3];
  } else return null;
  const fault = variant === 'ze15' && (hi & 128) !== 0;
  const h = variant === 'ze15' ? hi & 31 : hi;
  return { kind, ppm: Math.round((h * 256 + lo) * 10) / 100, fault };
}
function scan(buf) {
  const events = [];
  let i = 0;
  let noise = 0;
  while (i < buf.length) {
    if (buf[i] !== 255) {
      noise++;
      i++;
      continue;
    }
    if (buf.length - i < FRAME_LENGTH) break;
    const frame = buf.subarray(i, i + FRAME_LENGTH);
    if (checksum(frame) === frame[8]) {
      if (noise) events.push({ kind: 'noise', bytes: noise });
      noise = 0;
      events.push({ kind: 'frame', frame: Buffer.from(frame) });
      i += FRAME_LENGTH;
    } else {
      if (noise) events.push({ kind: 'noise', bytes: noise });
      noise = 0;
      events.push({ kind: 'bad-checksum', frame: Buffer.from(frame) });
      i++;
    }
  }
  if (noise) events.push({ kind: 'noise', bytes: noise });
  return { events, rest: Buffer.from(buf.subarray(i)) };
}

// src/drivers/winsen/driver.ts
var MAX_UPLOAD_AGE_MS = 1500;
var createWinsenDriver = (bus, deps) => {
  const log = deps.logger;
  const queue = createSerialQueue();
  const device = bus.devices[0];
  let rx = Buffer.alloc(0);
  let latest;
  let waiter;
  let noiseSinceRequest = 0;
  const line = createSerialLine({
    path: bus.path,
    baudRate: 9600,
    parity: 'none',
    dataBits: 8,
    stopBits: 1,
    reopenMs: bus.reopenMs,
    logger: log,
    clock: deps.clock,
    onData(chunk) {
      rx = rx.length ? Buffer.concat([rx, chunk]) : chunk;
      const { events, rest } = scan(rx);
      rx = rest.length > 256 ? rest.subarray(rest.length - 16) : rest;
      for (const ev of events) {
        if (ev.kind === 'noise') {
          noiseSinceRequest += ev.bytes;
          log.warn({ bytes: ev.bytes }, 'noise on the UART');
        } else if (ev.kind === 'bad-checksum') {
          log.warn({ frame: ev.frame.toString('hex') }, 'frame with a bad checksum');
          waiter?.({ error: new CrcError(`bad checksum in ${ev.frame.toString('hex')}`, ev.frame) });
        } else {
          const value = decodeFrame(ev.frame, profileVariant());
          if (!value) continue;
          if (value.kind === 'upload') latest = { value, at: deps.clock.now(), used: false };
          if (
            (bus.mode === 'qa' && value.kind === 'answer') ||
            (bus.mode === 'active' && value.kind === 'upload')
          ) {
            if (latest) latest.used = true;
            waiter?.({ value });
          }
        }
      }
    },
    onOpen(first) {
      void line.write(bus.mode === 'qa' ? SET_QA : SET_ACTIVE).catch(() => {});
      if (!first) deps.onReopen?.();
    },
  });
  let variant = 'ze07';
  const profileVariant = () => variant;
  function waitValue(timeoutMs) {
    return new Promise((resolve2, reject) => {
      const timer = setTimeout(() => {
        waiter = void 0;
        if (noiseSinceRequest)
          reject(
            new FrameError(`no valid frame within ${timeoutMs} ms; ${noiseSinceRequest} bytes of noise`),
          );
        else reject(new TimeoutError(`module did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      waiter = (ev) => {
        clearTimeout(timer);
        waiter = void 0;
        if (ev.error) reject(ev.error);
        else resolve2(ev.value);
      };
    });
  }
  function toSample(v) {
    const s = { ts: deps.clock.now(), values: { CO: v.ppm }, status: v.fault ? 'fault' : 'ok' };
    if (v.fault) s.faults = ['fault'];
    return s;
  }
  const readOnce = (timeoutMs) =>
    queue.run(async () => {
      if (!line.open) throw new PortError(`serial port ${bus.path} is not open`);
      noiseSinceRequest = 0;
      if (bus.mode === 'active') {
        const l = latest;
        if (l && !l.used && deps.clock.now() - l.at <= MAX_UPLOAD_AGE_MS) {
          l.used = true;
          return toSample(l.value);
        }
        return toSample(await waitValue(timeoutMs));
      }
      const p = waitValue(timeoutMs);
      p.catch(() => {});
      await line.write(QUERY);
      return toSample(await p);
    });
  return {
    get open() {
      return line.open;
    },
    start: () => line.start(),
    stop: () => line.stop(),
    async read(dev) {
      if (dev.profile.transport !== 'winsen')
        throw new DriverError('EPROFILE', `profile ${dev.profile.id} is not a Winsen profile`);
      variant = dev.profile.variant;
      const retries = dev.config.retries ?? bus.retries;
      const timeoutMs = dev.config.timeoutMs ?? bus.timeoutMs;
      for (let attempt = 0; ; attempt++) {
        try {
          return await readOnce(timeoutMs);
        } catch (err) {
          if (err instanceof PortError || attempt >= retries) throw err;
        }
      }
    },
    async writeCoil() {
      throw new DriverError('EUNSUPPORTED', `Winsen module ${device.id} has no outputs`);
    },
    async readCoils() {
      throw new DriverError('EUNSUPPORTED', `Winsen module ${device.id} has no outputs`);
    },
  };
};

// src/drivers/index.ts
var DRIVERS = {
  'modbus-rtu': createModbusRtuDriver,
  'modbus-tcp': createModbusTcpDriver,
  winsen: createWinsenDriver,
};
function createDriver(bus, deps) {
  const factory = DRIVERS[bus.type];
  return factory(bus, deps);
}

// src/forwarder.ts
function createForwarder(opts) {
  const { outbox, uplink, logger: log } = opts;
  const intervalMs = 1e3 / opts.ratePerS;
  let inflight = 0;
  let running = false;
  let pumping = false;
  let nextSendAt = 0;
  let timer;
  const pending = /* @__PURE__ */ new Set();
  let again = false;
  async function pump() {
    if (!running) return;
    if (pumping) {
      again = true;
      return;
    }
    pumping = true;
    try {
      again = true;
      while (again) {
        again = false;
        await pumpOnce();
      }
    } finally {
      pumping = false;
    }
  }
  async function pumpOnce() {
    while (running && uplink.connected && inflight < opts.maxInflight) {
      const now = performance.now();
      if (now < nextSendAt) {
        timer ??= setTimeout(
          () => {
            timer = void 0;
            void pump();
          },
          Math.ceil(nextSendAt - now),
        );
        return;
      }
      const entry = await outbox.take();
      if (!entry) return;
      nextSendAt = Math.max(now, nextSendAt) + intervalMs;
      inflight++;
      const p = uplink
        .publishRaw(entry.topic, entry.payload, { qos: 1, retain: false })
        .then(
          () => outbox.ack(entry),
          (err) => {
            log.debug({ err: err.message, key: entry.key }, 'publish not acknowledged; will resend');
            outbox.release(entry);
          },
        )
        .catch((err) => log.error({ err }, 'outbox update failed'))
        .finally(() => {
          inflight--;
          pending.delete(p);
          void pump();
        });
      pending.add(p);
    }
  }
  const onConnect = () => void pump();
  return {
    get inflight() {
      return inflight;
    },
    start() {
      running = true;
      uplink.on('connect', onConnect);
      void pump();
    },
    async stop() {
      running = false;
      uplink.off('connect', onConnect);
      if (timer) clearTimeout(timer);
      timer = void 0;
      await Promise.race([Promise.allSettled([...pending]), new Promise((r) => setTimeout(r, 1e3))]);
    },
    kick() {
      void pump();
    },
  };
}

// src/local-alarms.ts
var iso = (ms) => new Date(ms).toISOString();
function createLocalAlarm(deps) {
  const { device, driver } = deps;
  const log = device.log;
  const household = deps.config.alarms.householdStandard;
  const rules = createRuleSet(
    profileForKind(device.profile.kind, household),
    deps.config.alarms.household ? { thresholds: { 'LEL:low': 10 } } : {},
  );
  let state = rules.initial();
  let lastTs = -Infinity;
  let active = [];
  let interlocked = false;
  let pendingOutputs = /* @__PURE__ */ new Map();
  let silenced = false;
  const outputs =
    device.profile.transport === 'modbus' && device.config.outputs ? device.profile.outputs : [];
  async function applyOutputs(ts, reason) {
    const done = {};
    for (const [out, value] of [...pendingOutputs]) {
      try {
        await driver.writeCoil(device, out.coil, value);
        pendingOutputs.delete(out);
        done[out.name] = value;
      } catch (err) {
        log.error(
          { err, output: out.name, coil: out.coil, value },
          'could not switch local output; will retry',
        );
      }
    }
    if (Object.keys(done).length) {
      log.warn({ outputs: done, reason }, 'local outputs switched');
      deps.emit({
        ts: iso(ts),
        type: 'interlock',
        severity: 'critical',
        outputs: done,
        message: reason.slice(0, 500),
      });
    }
  }
  function toEvent(e) {
    const c = e.condition;
    return {
      ts: iso(e.ts),
      type: e.type === 'raised' ? 'alarm_raised' : 'alarm_cleared',
      severity: c.severity,
      ...(c.gas ? { gas: c.gas } : {}),
      rule: c.rule.slice(0, 64),
      ...(Number.isFinite(c.value) ? { value: c.value } : {}),
      message: c.message.slice(0, 500),
    };
  }
  return {
    get active() {
      return active;
    },
    get interlocked() {
      return interlocked;
    },
    async onSample(sample) {
      const ts = Math.max(sample.ts, lastTs + 1);
      lastTs = ts;
      const step = rules.step(state, {
        ts,
        values: sample.values,
        status: sample.status,
        ...(sample.faults ? { faults: sample.faults } : {}),
        ...(sample.quality ? { quality: sample.quality } : {}),
      });
      state = step.state;
      for (const e of step.events) {
        log.warn(
          { event: e.type, condition: e.condition.key, value: e.condition.value },
          `local alarm ${e.type}: ${e.condition.message}`,
        );
        deps.emit(toEvent(e));
      }
      active = step.active.filter((c) => c.gas !== void 0);
      const raisedNow = step.events.some((e) => e.type === 'raised' && e.condition.gas !== void 0);
      const want = active.length > 0 || sample.alarm === true;
      if (want && (!interlocked || raisedNow)) {
        if (!interlocked && sample.alarm === true && active.length === 0) {
          deps.emit({
            ts: iso(ts),
            type: 'alarm_raised',
            severity: 'critical',
            rule: 'device',
            message: "the detector's own alarm output is on",
          });
        }
        interlocked = true;
        silenced = false;
        pendingOutputs = new Map(outputs.map((o) => [o, o.onAlarm]));
      } else if (!want && interlocked) {
        interlocked = false;
        pendingOutputs = new Map(outputs.filter((o) => o.name === 'sounder').map((o) => [o, !o.onAlarm]));
      }
      if (pendingOutputs.size) {
        const reason = interlocked
          ? `local alarm: ${active.map((c) => c.message).join('; ') || 'detector alarm output'}`
          : 'local alarm cleared: sounder off (valve and fan stay until reset on site)';
        await applyOutputs(ts, reason);
      }
    },
    async silence(ts) {
      const sounders = outputs.filter((o) => o.name === 'sounder');
      silenced = true;
      for (const o of sounders) pendingOutputs.set(o, !o.onAlarm);
      await applyOutputs(ts, 'sounder silenced by command');
      deps.emit({ ts: iso(ts), type: 'silenced', message: 'sounder silenced; valve and fan unchanged' });
      return sounders.length > 0 && !sounders.some((o) => pendingOutputs.has(o)) && silenced;
    },
  };
}

// src/outbox.ts
import { mkdirSync } from 'node:fs';
import { ClassicLevel } from 'classic-level';

var R = 'r!';
var E = 'e!';
var S = 's!';
var DROPPED = 'm!dropped';
var pad = (n) => n.toString().padStart(16, '0');
function createOutbox(opts) {
  const log = opts.logger;
  let db;
  let counter = 0;
  let depth = 0;
  let dropped = 0;
  const seqs = /* @__PURE__ */ new Map();
  const events = [];
  let buffer = [];
  const retry = [];
  const taken = /* @__PURE__ */ new Set();
  let cursor = R;
  let chain = Promise.resolve();
  const need = () => {
    if (!db) throw new Error('outbox not started');
    return db;
  };
  const parse = (key, value) => {
    const v = JSON.parse(value);
    return { key, topic: v.t, payload: v.p, priority: key.startsWith(E) };
  };
  async function dropOldest(n) {
    const d = need();
    const victims = [];
    for await (const key of d.keys({ gt: R, lt: 'r"' })) {
      if (taken.has(key)) continue;
      victims.push(key);
      if (victims.length >= n) break;
    }
    if (!victims.length) return;
    dropped += victims.length;
    depth -= victims.length;
    await d.batch(
      [
        ...victims.map((key) => ({ type: 'del', key })),
        { type: 'put', key: DROPPED, value: String(dropped) },
      ],
      { sync: true },
    );
    const gone = new Set(victims);
    buffer = buffer.filter((e) => !gone.has(e.key));
    for (let i = retry.length - 1; i >= 0; i--) if (gone.has(retry[i].key)) retry.splice(i, 1);
    log.warn(
      {
        dropped: victims.length,
        totalDropped: dropped,
        maxReadings: opts.maxReadings,
        firstDropped: victims[0],
      },
      'outbox full: dropped the oldest readings',
    );
  }
  return {
    get depth() {
      return depth;
    },
    get dropped() {
      return dropped;
    },
    lastSeq: (dev) => seqs.get(dev),
    async start() {
      mkdirSync(opts.dir, { recursive: true });
      db = new ClassicLevel(opts.dir, { valueEncoding: 'utf8' });
      await db.open();
      for await (const [key, value] of db.iterator({ gt: S, lt: 's"' }))
        seqs.set(key.slice(S.length), Number(value));
      for await (const [key, value] of db.iterator({ gt: E, lt: 'e"' })) {
        events.push(parse(key, value));
        counter = Math.max(counter, Number(key.slice(2)) + 1);
      }
      let last = '';
      for await (const key of db.keys({ gt: R, lt: 'r"' })) {
        depth++;
        last = key;
      }
      if (last) counter = Math.max(counter, Number(last.slice(2)) + 1);
      dropped = Number((await db.get(DROPPED)) ?? 0);
      log.info({ dir: opts.dir, depth, events: events.length, devices: seqs.size, dropped }, 'outbox open');
    },
    async stop() {
      await chain.catch(() => {});
      const d = db;
      db = void 0;
      await d?.close();
    },
    appendReading(dev, build) {
      const run = async () => {
        const d = need();
        const seq = (seqs.get(dev) ?? -1) + 1;
        const { topic, payload } = build(seq);
        const key = R + pad(counter);
        await d.batch(
          [
            { type: 'put', key, value: JSON.stringify({ t: topic, p: payload }) },
            { type: 'put', key: S + dev, value: String(seq) },
          ],
          { sync: true },
        );
        counter++;
        seqs.set(dev, seq);
        depth++;
        if (depth > opts.maxReadings) await dropOldest(depth - opts.maxReadings);
        return seq;
      };
      const p = chain.then(run, run);
      chain = p.catch(() => {});
      return p;
    },
    appendEvent(topic, payload) {
      const run = async () => {
        const d = need();
        const key = E + pad(counter);
        await d.put(key, JSON.stringify({ t: topic, p: payload }), { sync: true });
        counter++;
        events.push({ key, topic, payload, priority: true });
      };
      const p = chain.then(run, run);
      chain = p.catch(() => {});
      return p;
    },
    async take() {
      const ev = events.find((e) => !taken.has(e.key));
      if (ev) {
        taken.add(ev.key);
        return ev;
      }
      let next = retry.shift();
      if (!next) {
        if (!buffer.length && db) {
          const loaded = [];
          for await (const [key, value] of db.iterator({ gt: cursor, lt: 'r"', limit: 256 }))
            loaded.push(parse(key, value));
          if (loaded.length) cursor = loaded[loaded.length - 1].key;
          buffer = loaded;
        }
        next = buffer.shift();
      }
      if (next) taken.add(next.key);
      return next;
    },
    async ack(entry) {
      if (!taken.delete(entry.key)) return;
      if (entry.priority) {
        const i = events.findIndex((e) => e.key === entry.key);
        if (i >= 0) events.splice(i, 1);
      } else depth--;
      await db?.del(entry.key);
    },
    release(entry) {
      if (!taken.delete(entry.key)) return;
      if (entry.priority) return;
      retry.push(entry);
      retry.sort((a, b) => (a.key < b.key ? -1 : 1));
    },
  };
}

// src/poller.ts
function createPoller(opts) {
  const { bus, driver, devices, clock, hooks } = opts;
  let running = false;
  let timer;
  let wake;
  let loop;
  function sleepUntil(t) {
    return new Promise((resolve2) => {
      const done = () => {
        if (timer !== void 0) clock.clearTimeout(timer);
        timer = void 0;
        wake = void 0;
        resolve2();
      };
      wake = done;
      timer = clock.setTimeout(done, Math.max(0, t - clock.now()));
    });
  }
  async function run() {
    const start = clock.now();
    devices.forEach((d, i) => {
      d.due = start + i * 5;
    });
    while (running) {
      let next;
      for (const d of devices) if (!next || d.due < next.due) next = d;
      if (!next) return;
      if (next.due > clock.now()) {
        await sleepUntil(next.due);
        continue;
      }
      const dev = next;
      const scheduled = dev.due;
      let sample;
      let failure;
      try {
        sample = await driver.read(dev);
        dev.failures = 0;
      } catch (err) {
        dev.failures++;
        failure = err;
      }
      try {
        if (sample) await hooks.onSample(dev, sample);
        else await hooks.onFailure(dev, failure);
      } catch (err) {
        dev.log.error({ err }, 'handling a poll result failed');
      }
      const now = clock.now();
      if (opts.isOffline(dev)) dev.due = now + bus.offlinePollS * 1e3;
      else {
        const interval = dev.config.pollIntervalS * 1e3;
        dev.due = scheduled + interval;
        if (dev.due < now - interval || dev.due > now + interval) dev.due = now + interval;
      }
    }
  }
  return {
    start() {
      running = true;
      loop = run().catch((err) => opts.logger.fatal({ err }, 'poll loop crashed'));
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
    },
    pollAllNow() {
      const now = clock.now();
      for (const d of devices) d.due = Math.min(d.due, now);
      wake?.();
    },
  };
}

// src/uplink.ts
import { EventEmitter } from 'node:events';
import { readFileSync as readFileSync3 } from 'node:fs';
import mqtt from 'mqtt';

function createUplink(opts) {
  const { config, logger: log } = opts;
  const gw = config.gatewayId;
  const u = config.uplink;
  const emitter = new EventEmitter();
  const extraTopics = /* @__PURE__ */ new Set();
  let client;
  let wasConnected = false;
  const options = {
    clientId: u.clientId ?? `gaswatch-gw-${gw}`,
    clean: true,
    keepalive: u.keepaliveS,
    reconnectPeriod: u.reconnectMs,
    connectTimeout: 1e4,
    queueQoSZero: false,
    will: {
      topic: topics.status(gw),
      payload: encodePayload('status', { v: 1, online: false }),
      qos: 1,
      retain: true,
    },
    ...(u.username !== void 0 ? { username: u.username } : {}),
    ...(u.password !== void 0 ? { password: u.password } : {}),
    ...(u.ca ? { ca: readFileSync3(u.ca) } : {}),
    ...(u.cert ? { cert: readFileSync3(u.cert) } : {}),
    ...(u.key ? { key: readFileSync3(u.key) } : {}),
  };
  const publishRaw = (topic, payload, o) =>
    new Promise((resolve2, reject) => {
      if (!client) return reject(new GatewayError('EUPLINK', 'uplink not started'));
      client.publish(topic, payload, { qos: o.qos, retain: o.retain }, (err) =>
        err ? reject(err) : resolve2(),
      );
    });
  Object.defineProperty(emitter, 'connected', { get: () => client?.connected === true, enumerable: true });
  const uplink = Object.assign(emitter, {
    start() {
      client = mqtt.connect(u.url, options);
      client.on('connect', () => {
        log.info({ url: u.url, reconnect: wasConnected }, 'uplink connected');
        wasConnected = true;
        client.subscribe([topics.cmd(gw), ...extraTopics], { qos: 1 }, (err) => {
          if (err) log.error({ err }, 'subscribe failed');
        });
        emitter.emit('connect');
      });
      client.on('offline', () => {
        log.warn({ url: u.url }, 'uplink offline');
        emitter.emit('offline');
      });
      client.on('error', (err) => log.warn({ err: err.message }, 'uplink error'));
      client.on('message', (topic, payload) => {
        if (topic !== topics.cmd(gw)) {
          emitter.emit('message', topic, payload);
          return;
        }
        let json;
        try {
          json = JSON.parse(payload.toString('utf8'));
        } catch {
          log.warn({ topic }, 'command is not JSON; ignored');
          return;
        }
        const parsed = CommandSchema.safeParse(json);
        if (!parsed.success) {
          const message = parsed.error.issues
            .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
            .join('; ');
          log.warn({ topic, message }, 'invalid command');
          const id = json?.id;
          if (typeof id === 'string' && id.length > 0 && id.length <= 64) {
            void publishRaw(
              topics.cmdResult(gw),
              encodePayload('cmdResult', {
                v: 1,
                id,
                ok: false,
                ts: /* @__PURE__ */ new Date().toISOString(),
                message: message.slice(0, 500),
              }),
              { qos: 1, retain: false },
            ).catch(() => {});
          }
          return;
        }
        emitter.emit('command', parsed.data);
      });
    },
    async stop() {
      const c = client;
      if (!c) return;
      if (c.connected) {
        await Promise.race([
          publishRaw(
            topics.status(gw),
            encodePayload('status', { v: 1, online: false, ts: /* @__PURE__ */ new Date().toISOString() }),
            { qos: 1, retain: true },
          ).catch(() => {}),
          new Promise((r) => setTimeout(r, 2e3)),
        ]);
      }
      await new Promise((resolve2) => c.end(true, {}, () => resolve2()));
      client = void 0;
    },
    publish(kind, topic, payload) {
      return publishRaw(topic, encodePayload(kind, payload), {
        qos: 1,
        retain: kind === 'status' || kind === 'state',
      });
    },
    publishRaw,
    subscribe(topic) {
      extraTopics.add(topic);
      if (client?.connected) client.subscribe(topic, { qos: 1 });
    },
    async waitConnected(timeoutMs) {
      if (client?.connected) return true;
      return new Promise((resolve2) => {
        const t = setTimeout(() => {
          emitter.off('connect', on);
          resolve2(false);
        }, timeoutMs);
        const on = () => {
          clearTimeout(t);
          resolve2(true);
        };
        emitter.once('connect', on);
      });
    },
  });
  return uplink;
}

// src/version.ts
import { readFileSync as readFileSync4 } from 'node:fs';

var VERSION = JSON.parse(readFileSync4(new URL('../package.json', import.meta.url), 'utf8')).version;

// src/gateway.ts
function createGateway(opts) {
  const { config } = opts;
  const clock = opts.clock ?? systemClock;
  const log = opts.logger;
  const gw = config.gatewayId;
  const profiles = opts.profiles ?? checkProfiles(config);
  const emitter = new EventEmitter2();
  const startedAt = clock.now();
  const iso2 = (ms = clock.now()) => new Date(ms).toISOString();
  const outbox = createOutbox({
    dir: config.outbox.dir,
    maxReadings: config.outbox.maxReadings,
    logger: log.child({ part: 'outbox' }),
  });
  const uplink = createUplink({ config, logger: log.child({ part: 'uplink' }) });
  const forwarder = createForwarder({
    outbox,
    uplink,
    logger: log.child({ part: 'forwarder' }),
    ratePerS: config.outbox.replayRatePerS,
    maxInflight: config.outbox.maxInflight,
  });
  const devices = /* @__PURE__ */ new Map();
  const buses = [];
  let clockSkewS;
  let statusTimer;
  let skewTimer;
  let lastDroppedLogged = 0;
  function deviceState(d) {
    return {
      v: 1,
      ts: iso2(),
      online: d.online === true,
      model: d.profile.id,
      kind: d.profile.kind,
      site: d.config.site,
      location: d.config.location,
      lastError: d.lastError ? d.lastError.slice(0, 500) : null,
      pollIntervalS: d.config.pollIntervalS,
    };
  }
  function publishState(d) {
    if (!uplink.connected) return;
    uplink
      .publish('state', topics.state(gw, d.config.id), deviceState(d))
      .catch((err) => d.log.debug({ err: err.message }, 'state publish failed'));
  }
  function emitEvent(d, e) {
    const event = { v: 1, ...e };
    let payload;
    try {
      payload = encodePayload('event', event).toString('utf8');
    } catch (err) {
      d.log.error({ err, event }, 'event does not match the DeviceEvent schema; not published');
      return;
    }
    emitter.emit('event', d, event);
    outbox
      .appendEvent(topics.event(gw, d.config.id), payload)
      .then(() => forwarder.kick())
      .catch((err) => d.log.error({ err }, 'could not store event in the outbox'));
  }
  const status = () => {
    const s = {
      v: 1,
      online: true,
      ts: iso2(),
      version: VERSION,
      uptimeS: Math.max(0, Math.round((clock.now() - startedAt) / 1e3)),
      outboxDepth: outbox.depth,
      outboxDropped: outbox.dropped,
    };
    if (clockSkewS !== void 0) {
      s.clockSkewS = Math.round(clockSkewS * 1e3) / 1e3;
      s.clockSuspect = Math.abs(clockSkewS) > config.clock.maxSkewS;
    }
    return s;
  };
  function publishStatus() {
    if (outbox.dropped > lastDroppedLogged) {
      log.warn({ outboxDropped: outbox.dropped }, 'outbox has dropped readings');
      lastDroppedLogged = outbox.dropped;
    }
    if (!uplink.connected) return;
    uplink
      .publish('status', topics.status(gw), status())
      .catch((err) => log.debug({ err: err.message }, 'status publish failed'));
  }
  function noteReference(refMs, source) {
    if (!Number.isFinite(refMs)) return;
    const skew = (clock.now() - refMs) / 1e3;
    const suspect = Math.abs(skew) > config.clock.maxSkewS;
    const wasSuspect = clockSkewS !== void 0 && Math.abs(clockSkewS) > config.clock.maxSkewS;
    clockSkewS = skew;
    if (suspect && !wasSuspect)
      log.error(
        { clockSkewS: skew, source, maxSkewS: config.clock.maxSkewS },
        'gateway clock is far from the reference time; readings carry this clock',
      );
    else if (!suspect && wasSuspect)
      log.info({ clockSkewS: skew, source }, 'gateway clock agrees with the reference again');
    if (suspect !== wasSuspect) publishStatus();
  }
  async function checkReferenceUrl() {
    const url = config.clock.referenceUrl;
    if (!url) return;
    try {
      const t0 = clock.now();
      const res = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(5e3) });
      const date = res.headers.get('date');
      if (date) noteReference(Date.parse(date) + (clock.now() - t0) / 2, url);
    } catch (err) {
      log.debug({ err: err.message, url }, 'clock reference unavailable');
    }
  }
  async function onSample(d, sample) {
    d.lastSample = sample;
    if (d.online !== true) {
      d.log.info(
        { values: sample.values, status: sample.status },
        d.online === false ? 'detector answers again' : 'detector online',
      );
      d.online = true;
      d.lastError = null;
      publishState(d);
    }
    if (d.alarm) {
      try {
        await d.alarm.onSample(sample);
      } catch (err) {
        d.log.error({ err }, 'local alarm evaluation failed');
      }
    }
    const seq = await outbox.appendReading(d.config.id, (seq2) => ({
      topic: topics.reading(gw, d.config.id),
      payload: encodePayload('reading', {
        v: 1,
        ts: iso2(sample.ts),
        seq: seq2,
        values: sample.values,
        status: sample.status,
        ...(sample.faults ? { faults: sample.faults.map((f) => f.slice(0, 64)).slice(0, 32) } : {}),
        ...(sample.quality ? { quality: sample.quality } : {}),
        ...(sample.alarm !== void 0 ? { alarm: sample.alarm } : {}),
      }).toString('utf8'),
    }));
    d.readings++;
    forwarder.kick();
    emitter.emit('reading', d, sample, seq);
  }
  function onFailure(d, err, bus) {
    const code = err.code ?? 'ERROR';
    const msg = `${code}: ${err.message}`;
    d.lastError = msg;
    emitter.emit('failure', d, err);
    if (d.failures === 1 || d.failures === bus.offlineAfter)
      d.log.warn({ code, err: err.message, failures: d.failures }, 'read failed');
    else d.log.debug({ code, err: err.message, failures: d.failures }, 'read failed');
    if (d.failures >= bus.offlineAfter && d.online !== false) {
      d.online = false;
      d.log.error({ code, err: err.message, offlinePollS: bus.offlinePollS }, 'detector offline');
      publishState(d);
      emitEvent(d, {
        ts: iso2(),
        type: 'fault',
        severity: 'warning',
        message: `detector not answering: ${msg}`.slice(0, 500),
      });
    }
  }
  for (const bus of config.buses) {
    const busLog = log.child({ bus: bus.id });
    let poller;
    const driver = createDriver(bus, { logger: busLog, clock, onReopen: () => poller?.pollAllNow() });
    const polled = bus.devices.map((dc) => {
      const profile = profiles.get(dc.profile);
      if (!profile) throw new Error(`unknown profile ${dc.profile}`);
      const d = {
        config: dc,
        profile,
        log: busLog.child(bus.type === 'winsen' ? { device: dc.id } : { unit: dc.unit, device: dc.id }),
        failures: 0,
        due: 0,
        bus,
        online: void 0,
        lastError: null,
        lastSample: void 0,
        readings: 0,
        alarm: void 0,
      };
      if (dc.localAlarms)
        d.alarm = createLocalAlarm({ config, driver, device: d, emit: (e) => emitEvent(d, e) });
      devices.set(dc.id, d);
      return d;
    });
    poller = createPoller({
      bus,
      driver,
      devices: polled,
      clock,
      logger: busLog,
      isOffline: (d) => d.online === false,
      hooks: {
        onSample: (d, s) => onSample(d, s),
        onFailure: (d, e) => onFailure(d, e, bus),
      },
    });
    buses.push({ bus, driver, poller });
  }
  async function handleCommand(cmd) {
    switch (cmd.type) {
      case 'silence': {
        const targets = cmd.device
          ? [devices.get(cmd.device)].filter((d) => d !== void 0)
          : [...devices.values()];
        if (cmd.device && !targets.length)
          return { ok: false, message: `no device "${cmd.device}" on this gateway` };
        const withSounder = targets.filter(
          (d) =>
            d.alarm &&
            d.profile.transport === 'modbus' &&
            d.profile.outputs.some((o) => o.name === 'sounder'),
        );
        if (!withSounder.length) return { ok: false, message: 'no sounder to silence' };
        const results = await Promise.all(withSounder.map((d) => d.alarm.silence(clock.now())));
        const failed = withSounder.filter((_, i) => !results[i]).map((d) => d.config.id);
        return failed.length
          ? { ok: false, message: `could not switch the sounder of ${failed.join(', ')}; retrying` }
          : { ok: true, message: `silenced ${withSounder.map((d) => d.config.id).join(', ')}` };
      }
      case 'reload_config':
        return { ok: false, message: 'reload_config is not supported by this gateway; restart the service' };
      case 'bump_test':
        return { ok: false, message: 'bump_test is not supported by this gateway yet' };
    }
  }
  const onCommand = (cmd) => {
    log.info({ cmd }, 'command received');
    void handleCommand(cmd)
      .catch((err) => ({ ok: false, message: err.message }))
      .then((r) =>
        uplink.publish('cmdResult', topics.cmdResult(gw), {
          v: 1,
          id: cmd.id,
          ok: r.ok,
          ts: iso2(),
          ...(r.message ? { message: r.message.slice(0, 500) } : {}),
        }),
      )
      .catch((err) => log.warn({ err: err.message, id: cmd.id }, 'command result not published'));
  };
  const onConnect = () => {
    publishStatus();
    for (const d of devices.values()) if (d.online !== void 0) publishState(d);
  };
  const onMessage = (topic, payload) => {
    if (topic !== config.clock.referenceTopic) return;
    const text = payload.toString('utf8').trim();
    const n = Number(text);
    noteReference(Number.isFinite(n) && text !== '' ? n : Date.parse(text.replace(/^"|"$/g, '')), topic);
  };
  const gateway = Object.assign(emitter, {
    devices,
    outbox,
    uplink,
    status,
    handleCommand,
    async start() {
      await outbox.start();
      uplink.on('command', onCommand);
      uplink.on('connect', onConnect);
      uplink.on('message', onMessage);
      if (config.clock.referenceTopic) uplink.subscribe(config.clock.referenceTopic);
      uplink.start();
      forwarder.start();
      await Promise.all(buses.map((b) => b.driver.start()));
      for (const b of buses) b.poller.start();
      statusTimer = setInterval(publishStatus, config.uplink.statusIntervalS * 1e3);
      if (config.clock.referenceUrl) {
        void checkReferenceUrl();
        skewTimer = setInterval(() => void checkReferenceUrl(), 3e5);
      }
      const up = await uplink.waitConnected(opts.uplinkWaitMs ?? 1e4);
      log.info(
        {
          gatewayId: gw,
          version: VERSION,
          buses: buses.map((b) => ({ id: b.bus.id, type: b.bus.type, open: b.driver.open })),
          devices: devices.size,
          uplink: up,
          outboxDepth: outbox.depth,
        },
        'started',
      );
    },
    async stop() {
      if (statusTimer) clearInterval(statusTimer);
      if (skewTimer) clearInterval(skewTimer);
      for (const b of buses) await b.poller.stop();
      await Promise.all(buses.map((b) => b.driver.stop()));
      await forwarder.stop();
      await uplink.stop();
      uplink.off('command', onCommand);
      uplink.off('connect', onConnect);
      uplink.off('message', onMessage);
      await outbox.stop();
      log.info('stopped');
    },
  });
  return gateway;
}

// src/logger.ts
import pino from 'pino';

function createLogger(level = 'info') {
  if (process.stdout.isTTY) {
    return pino({
      level,
      base: { name: 'gaswatch-gateway' },
      transport: { target: 'pino-pretty', options: { colorize: true } },
    });
  }
  return pino({ level, base: { name: 'gaswatch-gateway' } });
}

// src/main.ts
var USAGE = 'usage: gaswatch-gateway --config FILE';
async function main() {
  let values;
  try {
    ({ values } = parseArgs({
      options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    process.stderr.write(`${err.message}
${USAGE}
`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}
`);
    return 0;
  }
  if (!values.config) {
    process.stderr.write(`missing --config
${USAGE}
`);
    return 2;
  }
  let config;
  try {
    config = loadConfig(values.config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}
`);
      return 78;
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  const gateway = createGateway({ config, logger });
  closeWithGrace({ delay: 1e4, logger }, async ({ err, signal }) => {
    if (err) logger.error({ err }, 'shutting down after an error');
    else logger.info({ signal }, 'shutting down');
    await gateway.stop();
  });
  await gateway.start();
  return 0;
}
main().then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`gaswatch-gateway failed to start: ${err.stack ?? err}
`);
    process.exitCode = 1;
    process.exit(1);
  },
);
