import { afterEach, describe, expect, it } from 'vitest';
import { SILENCE_ANSWER_MS } from '../../src/alarms/engine.js';
import type { AlarmTransition } from '../../src/bus.js';
import { accepted, deviceState, feed, MIN, makeRig, manualTime, type Rig, series, T0 } from './helpers.js';

const home = deviceState('household-co', 'home', 3600);
/** Fault alarms at once (no wait for a fault burst): these tests are about the sounder. */
const AT_ONCE = { fold: { faultMinDevices: 0 } };

/**
 * 400 ppm CO for 3 min (EN 50291 fast tier: critical `CO:fast` after 2 min; the slow dose tier
 * needs 4.7 min) and, on the last reading, the detector's end-of-life fault code (`fault`,
 * warning): two alarms of one device, both active and unacknowledged.
 */
async function twoAlarms(rig: Rig) {
  const rs = series('gw-1', 'co-1', home, T0, T0 + 3 * MIN, 10, { CO: 400 });
  rs.push(accepted('gw-1', 'co-1', home, T0 + 3 * MIN, rs.length, { CO: 400 }, { faults: ['sensor_eol'] }));
  await feed(rig.store, rig.bus, rs);
  await rig.engine.idle();
  const open = rig.engine.list({ state: 'open' });
  expect(open.map((a) => `${a.key}/${a.severity}/${a.state}`).sort()).toEqual([
    'CO:fast/critical/active',
    'fault/warning/active',
  ]);
  const critical = open.find((a) => a.key === 'CO:fast');
  const warning = open.find((a) => a.key === 'fault');
  if (critical === undefined || warning === undefined) throw new Error('alarms missing');
  return { critical, warning };
}

/** 400 ppm CO for 3 min on co-1 (the fast tier's critical alarm), acknowledged: the silence is sent. */
async function oneAcknowledgedAlarm(rig: Rig) {
  await feed(rig.store, rig.bus, series('gw-1', 'co-1', home, T0, T0 + 3 * MIN, 10, { CO: 400 }));
  await rig.engine.idle();
  const [alarm] = rig.engine.list({ state: 'open' });
  if (alarm === undefined) throw new Error('no alarm');
  const ack = await rig.engine.acknowledge(alarm.id, { actor: 'duty', note: '' });
  return { alarm, ack };
}

/** The silence's outcome is on the alarm, last in its history, announced and counted. */
async function expectSilenceOutcome(
  rig: Rig,
  alarmId: string,
  command: string | null,
  expected: { status: string; message: string },
  seen: AlarmTransition[],
) {
  expect(rig.engine.get(alarmId)?.silence).toMatchObject({ ...expected, command });
  expect((await rig.engine.history(alarmId)).at(-1)).toMatchObject({
    type: 'silence_result',
    ok: false,
    command,
    message: expected.message,
  });
  expect(seen.at(-1)).toMatchObject({ type: 'silence_result', alarmId, silence: expected });
  expect(await rig.registry.metrics()).toMatch(
    new RegExp(`gaswatch_silence_commands_total\\{result="${expected.status}"\\} 1`),
  );
}

/** The gateway's answer to a command, as ingest puts it on the bus. */
function answer(rig: Rig, id: string | null, ok: boolean, at: number, message?: string) {
  rig.bus.emit('commandResult', {
    gw: 'gw-1',
    result: {
      v: 1,
      id: id ?? '',
      ok,
      ts: new Date(at).toISOString(),
      ...(message === undefined ? {} : { message }),
    },
  });
}

describe('sounder silence on acknowledgement', () => {
  let rig: Rig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('acking a warning while a critical alarm of the device is unacknowledged sends no silence; acking the critical one does', async () => {
    rig = await makeRig(AT_ONCE);
    const { critical, warning } = await twoAlarms(rig);

    const first = await rig.engine.acknowledge(warning.id, { actor: 'duty', note: 'sensor ordered' });
    expect(first.alarm.state).toBe('acknowledged');
    expect(first.silence).toMatchObject({ id: null, sent: false, held: true, heldBy: [critical.id] });
    expect(rig.commands).toEqual([]);
    expect(rig.engine.get(warning.id)?.silence).toMatchObject({ status: 'held', heldBy: [critical.id] });
    const held = (await rig.engine.history(warning.id)).at(-1);
    expect(held).toMatchObject({ type: 'silence', ok: false, heldBy: [critical.id] });
    expect(held?.message).toMatch(/CO:fast critical/);

    const second = await rig.engine.acknowledge(critical.id, { actor: 'duty', note: 'windows open' });
    expect(second.silence.sent).toBe(true);
    expect(rig.commands.map((c) => c.cmd)).toEqual([
      { v: 1, id: second.silence.id, type: 'silence', device: 'co-1', alarmId: critical.id },
    ]);
    // The warning whose silence was held is silenced by the same command, and says so.
    for (const id of [critical.id, warning.id])
      expect(rig.engine.get(id)?.silence).toMatchObject({ status: 'sent', command: second.silence.id });
    expect((await rig.engine.history(warning.id)).at(-1)).toMatchObject({
      type: 'silence',
      ok: true,
      command: second.silence.id,
    });
    const text = await rig.registry.metrics();
    expect(text).toMatch(/gaswatch_silence_commands_total\{result="held"\} 1/);
    expect(text).toMatch(/gaswatch_silence_commands_total\{result="sent"\} 1/);
  });

  it("the gateway's answer is recorded on the alarm (silence_result), announced, and survives a restart", async () => {
    rig = await makeRig(AT_ONCE);
    const seen: AlarmTransition[] = [];
    rig.bus.on('alarm', (t) => seen.push(t));
    const { alarm, ack } = await oneAcknowledgedAlarm(rig);
    expect(rig.engine.get(alarm.id)?.silence?.status).toBe('sent');

    // An answer to some other command changes nothing.
    answer(rig, 'reload-1', true, T0);
    answer(rig, ack.silence.id, false, T0 + 4 * MIN, 'could not switch the sounder of co-1; retrying');
    await rig.engine.idle();
    const expected = {
      status: 'refused',
      command: ack.silence.id,
      message: 'could not switch the sounder of co-1; retrying',
    };
    await expectSilenceOutcome(rig, alarm.id, ack.silence.id, expected, seen);
    expect((await rig.engine.history(alarm.id)).map((e) => e.type)).toEqual([
      'raised',
      'acknowledged',
      'silence',
      'silence_result',
    ]);

    await rig.restart();
    await rig.engine.idle();
    expect(rig.engine.get(alarm.id)?.silence).toMatchObject(expected);
    expect((await rig.engine.history(alarm.id)).at(-1)).toMatchObject({ type: 'silence_result', ok: false });
  });

  it('a silence the gateway does not answer within 30 s says so (the sounder may still be sounding); a late answer still lands', async () => {
    const time = manualTime(T0);
    rig = await makeRig(AT_ONCE, { clock: time.clock, timers: time.timers });
    const seen: AlarmTransition[] = [];
    rig.bus.on('alarm', (t) => seen.push(t));
    const { alarm, ack } = await oneAcknowledgedAlarm(rig);
    expect(ack.silence.sent).toBe(true);

    time.advance(SILENCE_ANSWER_MS - 2_000);
    expect(rig.engine.get(alarm.id)?.silence?.status).toBe('sent');
    time.advance(3_000);
    const unanswered = {
      status: 'unanswered',
      command: ack.silence.id,
      message: 'no answer from gateway gw-1 within 30 s: the sounder of co-1 may still be sounding',
    };
    await expectSilenceOutcome(rig, alarm.id, ack.silence.id, unanswered, seen);
    // Said once, not on every sweep.
    time.advance(5 * MIN);
    expect((await rig.engine.history(alarm.id)).filter((e) => e.type === 'silence_result')).toHaveLength(1);

    // Still `unanswered` after a restart, and the gateway's late answer still lands.
    await rig.restart();
    await rig.engine.idle();
    expect(rig.engine.get(alarm.id)?.silence).toMatchObject(unanswered);
    answer(rig, ack.silence.id, true, time.clock(), 'silenced');
    await rig.engine.idle();
    expect(rig.engine.get(alarm.id)?.silence).toMatchObject({ status: 'confirmed', message: 'silenced' });
  });

  it('a silence sent before a restart still gets its answer deadline after it', async () => {
    const time = manualTime(T0);
    rig = await makeRig(AT_ONCE, { clock: time.clock, timers: time.timers });
    const { alarm } = await oneAcknowledgedAlarm(rig);
    time.advance(10_000);
    await rig.restart();
    await rig.engine.idle();
    expect(rig.engine.get(alarm.id)?.silence?.status).toBe('sent');
    time.advance(SILENCE_ANSWER_MS - 10_000 + 2_000);
    expect(rig.engine.get(alarm.id)?.silence?.status).toBe('unanswered');
  });

  it('an answer that arrives after a server restart, or before the broker confirmed the send, still lands in order', async () => {
    let answerEarly = false;
    rig = await makeRig(
      {},
      {
        sendCommand: async (gw, cmd) => {
          rig?.commands.push({ gw, cmd });
          // A fast gateway: its answer is on the bus before the broker's PUBACK is back.
          if (answerEarly && rig) answer(rig, cmd.id, true, T0, 'silenced');
        },
      },
    );
    await feed(rig.store, rig.bus, series('gw-1', 'co-1', home, T0, T0 + 3 * MIN, 10, { CO: 400 }));
    await feed(rig.store, rig.bus, series('gw-1', 'co-2', home, T0, T0 + 3 * MIN, 10, { CO: 400 }));
    await rig.engine.idle();
    const one = rig.engine.list({ dev: 'co-1' })[0];
    const two = rig.engine.list({ dev: 'co-2' })[0];
    if (one === undefined || two === undefined) throw new Error('alarms missing');

    const ack1 = await rig.engine.acknowledge(one.id, { actor: 'duty', note: '' });
    await rig.restart();
    answer(rig, ack1.silence.id, true, T0, 'silenced co-1');
    await rig.engine.idle();
    expect(rig.engine.get(one.id)?.silence).toMatchObject({ status: 'confirmed', message: 'silenced co-1' });

    answerEarly = true;
    await rig.engine.acknowledge(two.id, { actor: 'duty', note: '' });
    await rig.engine.idle();
    expect(rig.engine.get(two.id)?.silence).toMatchObject({ status: 'confirmed', message: 'silenced' });
    expect((await rig.engine.history(two.id)).map((e) => e.type)).toEqual([
      'raised',
      'acknowledged',
      'silence',
      'silence_result',
    ]);
  });
});
