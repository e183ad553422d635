import { randomUUID } from 'node:crypto';
import type { Command, CommandResult } from '@gaswatch/shared';
import type { Logger } from 'pino';
import type { SendCommand } from '../bus.js';
import { withTimeout } from '../timers.js';
import type { AlarmBook } from './alarm-book.js';
import type { AlarmMetrics } from './metrics.js';
import type { Alarm } from './model.js';

/** How long the gateway has to answer a silence command before the alarm says `unanswered`. */
export const SILENCE_ANSWER_MS = 30_000;
/** Answers are kept for at most this many outstanding commands (a gateway that never answers). */
const MAX_SILENCE_AWAITED = 10_000;

/**
 * The sounder silence: the command id and whether it was handed to the broker; or, while other
 * alarms of the device are still active and unacknowledged, `held` (no command, id null) with
 * their ids — the last acknowledgement sends it.
 */
export interface SilenceOutcome {
  id: string | null;
  sent: boolean;
  error?: string;
  held?: boolean;
  heldBy?: string[];
}

export interface Silence {
  /** After an acknowledgement: sends (or holds) the silence command of the alarm's device. */
  afterAck(a: Alarm): Promise<SilenceOutcome>;
  /** The gateway's answer to a silence command. */
  onResult(gw: string, result: CommandResult): void;
  /** Marks commands the gateway has not answered in time (called by the periodic sweep). */
  checkAnswers(now: number): void;
  /** Awaits again the answers to commands sent before a restart (from the alarms' stored silence). */
  restore(alarms: Iterable<Alarm>): void;
}

export interface SilenceDeps {
  sendCommand: SendCommand;
  clock: () => number;
  logger: Logger;
  metrics: AlarmMetrics;
  alarms: Pick<AlarmBook, 'get' | 'all' | 'openAlarmsOf' | 'record'>;
}

/**
 * Sounder silence: sends the silence command on acknowledgement (held while another alarm of the
 * device is active and unacknowledged, because the gateway silences the whole device), records the
 * gateway's answer on every alarm the command silenced, and says `unanswered` when no answer
 * comes within SILENCE_ANSWER_MS. Owns the commands whose answer is awaited.
 */
export function createSilence(deps: SilenceDeps): Silence {
  const { clock, metrics, alarms, logger: log } = deps;
  /**
   * Silence commands whose answer is awaited: the alarms each one silences (the acknowledged one,
   * and the earlier acknowledged alarms of the device it had been held for), whether it is still
   * being handed to the broker, and an answer that came back before that finished.
   */
  const commands = new Map<
    string,
    {
      alarmIds: string[];
      sending: boolean;
      early?: { gw: string; result: CommandResult };
      /** Wall clock the command was handed to the broker (the answer deadline counts from it). */
      sentAt: number;
      /** The deadline passed and the alarms say `unanswered`; a late answer still lands. */
      overdue: boolean;
    }
  >();

  function awaitResult(
    command: string,
    alarmIds: string[],
    sending: boolean,
    sentAt: number,
    overdue = false,
  ): void {
    commands.set(command, { alarmIds, sending, sentAt, overdue });
    if (commands.size > MAX_SILENCE_AWAITED) {
      const oldest = commands.keys().next().value;
      if (oldest !== undefined) commands.delete(oldest);
    }
  }

  function onResult(gw: string, result: CommandResult): void {
    const waiting = commands.get(result.id);
    if (waiting === undefined) return;
    if (waiting.sending) {
      waiting.early = { gw, result };
      return;
    }
    commands.delete(result.id);
    const now = clock();
    const message = result.message ?? (result.ok ? 'silenced' : 'the gateway could not silence the sounder');
    metrics.silence.inc({ result: result.ok ? 'confirmed' : 'refused' });
    for (const id of waiting.alarmIds) {
      const a = alarms.get(id);
      if (a === undefined) continue;
      a.silence = { status: result.ok ? 'confirmed' : 'refused', command: result.id, at: now, message };
      if (result.ok)
        log.info({ alarmId: a.id, gw, command: result.id, message }, 'gateway silenced the sounder');
      else
        log.error(
          { alarmId: a.id, gw, command: result.id, message },
          'gateway could not silence the sounder: it may still be sounding',
        );
      alarms.record(a, 'silence_result', now, {
        ok: result.ok,
        silenceStatus: a.silence.status,
        command: result.id,
        message,
        gatewayTs: result.ts,
      });
    }
  }

  return {
    /**
     * The device's sounder is silenced only when no other alarm of the device is still active and
     * unacknowledged (a warning's acknowledgement must not mute a critical alarm nobody has seen).
     * Then the command also covers the alarms acknowledged earlier whose silence was held.
     */
    async afterAck(a) {
      const now = clock();
      const blockers = alarms.openAlarmsOf(a.dev).filter((x) => x.id !== a.id && x.state === 'active');
      if (blockers.length > 0) {
        const heldBy = blockers.map((x) => x.id);
        const message = `sounder not silenced: ${blockers.length === 1 ? 'another alarm' : `${blockers.length} other alarms`} of ${a.dev} still active and unacknowledged (${blockers.map((x) => `${x.key} ${x.severity}`).join(', ')}); it is silenced when the last of them is acknowledged`;
        a.silence = { status: 'held', command: null, at: now, message, heldBy };
        metrics.silence.inc({ result: 'held' });
        log.warn({ alarmId: a.id, dev: a.dev, heldBy }, message);
        alarms.record(a, 'silence', now, { ok: false, silenceStatus: 'held', message, heldBy });
        return { id: null, sent: false, held: true, heldBy };
      }
      const held: Alarm[] = [];
      for (const x of alarms.all())
        if (x.dev === a.dev && x.id !== a.id && x.silence?.status === 'held') held.push(x);
      const cmd: Command = {
        v: 1,
        id: `silence-${randomUUID()}`,
        type: 'silence',
        device: a.dev,
        alarmId: a.id,
      };
      const targets = [a, ...held];
      // Registered before sending: the gateway may answer before the broker's PUBACK is back.
      awaitResult(
        cmd.id,
        targets.map((x) => x.id),
        true,
        now,
      );
      const out: SilenceOutcome = { id: cmd.id, sent: false };
      try {
        await withTimeout(deps.sendCommand(a.gw, cmd), 5_000, 'sending the silence command');
        out.sent = true;
        metrics.silence.inc({ result: 'sent' });
      } catch (err) {
        out.error = (err as Error).message;
        metrics.silence.inc({ result: 'failed' });
        log.error({ err, alarmId: a.id, gw: a.gw }, 'silence command could not be sent');
      }
      const at = clock();
      for (const x of targets) {
        x.silence = out.sent
          ? { status: 'sent', command: cmd.id, at }
          : { status: 'send_failed', command: cmd.id, at, message: out.error ?? 'not sent' };
        alarms.record(x, 'silence', at, {
          ok: out.sent,
          silenceStatus: x.silence.status,
          command: cmd.id,
          ...(x === a ? {} : { message: `sent on the acknowledgement of ${a.id}` }),
          ...(out.error === undefined ? {} : { message: out.error }),
        });
      }
      const waiting = commands.get(cmd.id);
      if (waiting !== undefined) {
        waiting.sending = false;
        waiting.sentAt = at;
        if (waiting.early !== undefined) onResult(waiting.early.gw, waiting.early.result);
        else if (!out.sent) commands.delete(cmd.id);
      }
      return out;
    },

    onResult,

    /**
     * A silence command the gateway has not answered within SILENCE_ANSWER_MS: the alarms it was
     * meant to silence say `unanswered` (the sounder may still be sounding) in a `silence_result`
     * event with ok:false. The command stays awaited, so a late answer still lands.
     */
    checkAnswers(now) {
      for (const [command, waiting] of commands) {
        if (waiting.sending || waiting.overdue || now - waiting.sentAt < SILENCE_ANSWER_MS) continue;
        for (const id of waiting.alarmIds) {
          const a = alarms.get(id);
          if (a?.silence?.command !== command || a.silence.status !== 'sent') continue;
          const message = `no answer from gateway ${a.gw} within ${SILENCE_ANSWER_MS / 1000} s: the sounder of ${a.dev} may still be sounding`;
          a.silence = { status: 'unanswered', command, at: now, message };
          log.error({ alarmId: a.id, gw: a.gw, command }, message);
          alarms.record(a, 'silence_result', now, {
            ok: false,
            silenceStatus: 'unanswered',
            command,
            message,
          });
        }
        // Marked once every alarm says so (a throw above leaves it for the next sweep).
        waiting.overdue = true;
        metrics.silence.inc({ result: 'unanswered' });
      }
    },

    restore(list) {
      const awaited = new Map<string, { ids: string[]; at: number; overdue: boolean }>();
      for (const a of list) {
        // A silence sent before the restart whose answer had not come: the answer still finds it,
        // and the answer deadline still counts from the send.
        const s = a.silence;
        if ((s?.status !== 'sent' && s?.status !== 'unanswered') || !s.command) continue;
        const entry = awaited.get(s.command) ?? { ids: [], at: s.at, overdue: s.status === 'unanswered' };
        entry.ids.push(a.id);
        awaited.set(s.command, entry);
      }
      for (const [cmd, e] of awaited) awaitResult(cmd, e.ids, false, e.at, e.overdue);
    },
  };
}
