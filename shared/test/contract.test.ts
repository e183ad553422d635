import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  builtinProfile,
  decodeMessage,
  decodeRegisters,
  encodePayload,
  encodeRegisters,
  lelToPercentVol,
  loadProfileFile,
  loadProfiles,
  MAX_PAYLOAD_BYTES,
  mgM3ToPpm,
  ProfileError,
  parseTopic,
  percentVolToLel,
  ppmToMgM3,
  topics,
} from '../src/index.js';

const reading = { v: 1, ts: '2026-11-23T18:00:00.000Z', seq: 1234, values: { CO: 35.2 }, status: 'ok' };

describe('topics', () => {
  it('round-trips every topic kind through parseTopic', () => {
    expect(parseTopic(topics.reading('gw-1', 'bath_co'))).toEqual({
      kind: 'reading',
      gw: 'gw-1',
      dev: 'bath_co',
    });
    expect(parseTopic(topics.state('gw-1', 'd'))).toEqual({ kind: 'state', gw: 'gw-1', dev: 'd' });
    expect(parseTopic(topics.event('gw-1', 'd'))).toEqual({ kind: 'event', gw: 'gw-1', dev: 'd' });
    expect(parseTopic(topics.status('gw-1'))).toEqual({ kind: 'status', gw: 'gw-1' });
    expect(parseTopic(topics.cmd('gw-1'))).toEqual({ kind: 'cmd', gw: 'gw-1' });
    expect(parseTopic(topics.cmdResult('gw-1'))).toEqual({ kind: 'cmdResult', gw: 'gw-1' });
  });

  it.each([
    'gaswatch/v2/gw/dev/reading',
    'gaswatch/v1/GW/dev/reading',
    'gaswatch/v1/gw/dev/readings',
    'gaswatch/v1/gw/dev/reading/extra',
    'gaswatch/v1/gw',
    'gaswatch/v1/-gw/dev/reading',
    `gaswatch/v1/${'a'.repeat(65)}/dev/reading`,
    'other/v1/gw/dev/reading',
  ])('rejects the malformed topic %s', (t) => {
    expect(parseTopic(t)).toBeNull();
  });
});

describe('decodeMessage', () => {
  const topic = topics.reading('gw1', 'dev1');

  it('accepts a SPEC §2 reading', () => {
    const r = decodeMessage(topic, JSON.stringify(reading));
    expect(r).toMatchObject({ ok: true, address: { kind: 'reading', dev: 'dev1' }, payload: reading });
  });

  it.each([
    ['not JSON', '{"v":1,', 'not_json'],
    ['wrong schema', JSON.stringify({ ...reading, seq: 'x' }), 'bad_schema'],
    ['unknown gas', JSON.stringify({ ...reading, values: { XE: 1 } }), 'bad_schema'],
    [
      'NaN as a string',
      '{"v":1,"ts":"2026-11-23T18:00:00.000Z","seq":1,"values":{"CO":NaN},"status":"ok"}',
      'not_json',
    ],
    ['negative concentration', JSON.stringify({ ...reading, values: { CO: -1 } }), 'bad_schema'],
    ['no channels', JSON.stringify({ ...reading, values: {} }), 'bad_schema'],
    ['unknown status', JSON.stringify({ ...reading, status: 'great' }), 'bad_schema'],
    ['extra field', JSON.stringify({ ...reading, extra: 1 }), 'bad_schema'],
    ['bad time', JSON.stringify({ ...reading, ts: 'yesterday' }), 'bad_schema'],
  ])('rejects %s with a reason', (_name, payload, reason) => {
    const r = decodeMessage(topic, payload);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toBe(reason);
      expect(r.message.length).toBeGreaterThan(0);
    }
  });

  it('rejects payloads over 64 KiB before parsing them', () => {
    const big = JSON.stringify({ ...reading, faults: ['x'.repeat(MAX_PAYLOAD_BYTES)] });
    expect(decodeMessage(topic, big)).toMatchObject({ ok: false, reason: 'too_large' });
  });

  it('rejects a bad topic shape', () => {
    expect(decodeMessage('gaswatch/v1/gw/reading', JSON.stringify(reading))).toMatchObject({
      ok: false,
      reason: 'bad_topic',
    });
  });

  it('validates the gateway will message and commands', () => {
    expect(decodeMessage(topics.status('gw1'), '{"v":1,"online":false}').ok).toBe(true);
    expect(decodeMessage(topics.cmd('gw1'), '{"v":1,"id":"c1","type":"silence"}').ok).toBe(true);
    expect(decodeMessage(topics.cmd('gw1'), '{"v":1,"id":"c1","type":"self_destruct"}').ok).toBe(false);
  });

  it('refuses to encode a payload receivers would reject', () => {
    expect(() => encodePayload('reading', { ...reading, values: { CO: Number.NaN } } as never)).toThrow();
    expect(JSON.parse(encodePayload('reading', reading as never).toString())).toEqual(reading);
  });
});

describe('gas catalogue (SPEC §2 figures)', () => {
  it.each([
    ['CO', '25C', 1.146],
    ['CO', '0C', 1.25],
    ['H2S', '25C', 1.394],
    ['H2S', '0C', 1.521],
  ] as const)('1 ppm %s at %s is %s mg/m³', (gas, basis, mg) => {
    expect(ppmToMgM3(gas, 1, basis)).toBeCloseTo(mg, 3);
    expect(mgM3ToPpm(gas, mg, basis)).toBeCloseTo(1, 3);
  });

  it('converts combustible %vol and %LEL with methane 5.0 and propane 2.1 %vol', () => {
    expect(percentVolToLel('CH4', 0.5)).toBeCloseTo(10);
    expect(percentVolToLel('C3H8', 2.1)).toBeCloseTo(100);
    expect(lelToPercentVol('LEL', 10)).toBeCloseTo(0.5);
    expect(() => ppmToMgM3('LEL', 1)).toThrow(/molar mass/);
  });
});

describe('register codec', () => {
  it('decodes the Midas float32 low word first', () => {
    // 12.5 = 0x41480000: high word 0x4148, low word 0x0000; Midas sends the low word first.
    expect(decodeRegisters([0x0000, 0x4148], 'float32', 'le')).toBe(12.5);
    expect(decodeRegisters([0x4148, 0x0000], 'float32', 'be')).toBe(12.5);
    expect(encodeRegisters(12.5, 'float32', 'le')).toEqual([0x0000, 0x4148]);
  });

  it.each([
    ['uint16', 65535],
    ['int16', -2],
    ['uint32', 4_000_000_000],
    ['int32', -123_456_789],
  ] as const)('round-trips %s in both word orders', (type, value) => {
    for (const order of ['be', 'le'] as const) {
      expect(decodeRegisters(encodeRegisters(value, type, order), type, order)).toBe(value);
    }
  });

  it('refuses too few registers', () => {
    expect(() => decodeRegisters([1], 'float32')).toThrow(/2 registers/);
  });
});

describe('profiles', () => {
  it('ships the five reference profiles of SPEC §3', () => {
    expect([...loadProfiles().keys()].sort()).toEqual([
      'gaswatch-4gas',
      'gaswatch-co',
      'gaswatch-lel',
      'midas',
      'winsen-ze07',
    ]);
    const lel = builtinProfile('gaswatch-lel');
    expect(lel.transport === 'modbus' && lel.outputs.map((o) => o.name)).toEqual(['sounder', 'valve', 'fan']);
  });

  it('names the file, the path and the reason for a bad profile', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gaswatch-profile-'));
    const file = join(dir, 'broken.yaml');
    writeFileSync(
      file,
      'id: broken\ndescription: x\nkind: household-co\ntransport: modbus\nchannels:\n  - { gas: CO, address: 0, type: uint12 }\n',
    );
    expect(() => loadProfileFile(file)).toThrow(ProfileError);
    expect(() => loadProfileFile(file)).toThrow(/broken\.yaml: channels\.0\.type/);
  });

  it('refuses a profile whose id does not match its file name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gaswatch-profile-'));
    const file = join(dir, 'model-a.yaml');
    writeFileSync(
      file,
      'id: model-b\ndescription: x\nkind: multigas\ntransport: winsen\nvariant: ze07\ngas: CO\n',
    );
    expect(() => loadProfileFile(file)).toThrow(/must match the file name/);
  });
});
