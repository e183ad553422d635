/**
 * The evacuation alert at the work site (issue 14): when the server stops work in progress, the
 * gateway of the permit's detector gets an `evacuate` command and switches on the sounder the
 * detector's local alarm drives (docs/gateway.md). It sounds until a `silence` for the device: the
 * acknowledgement of the detector's alarm sends one (alarms/silence.ts), and so does a silence on
 * site. What happened is kept with the permit: an audit row `permit.sounder` (target the permit) and
 * a `permit` live event of kind `sounder`, when the command is handed to the broker (or could not
 * be) and again with the gateway's answer; a refusal (no sounder this gateway switches) says that
 * nothing sounds at the site, so the console warns the people there another way.
 */
import { randomUUID } from 'node:crypto';
import type { Command, CommandResult } from '@gaswatch/shared';
import { appendAudit } from '../db/audit.js';
import { getPermit } from '../db/permits.js';
import type { PermitsTable } from '../db/schema.js';
import { withTimeout } from '../timers.js';
import type { PermitCore } from './core.js';

/** Commands whose answer is awaited at most (a gateway that never answers). */
const MAX_AWAITED = 1_000;

/** What became of the sounder: handed to the broker, not sent, or the gateway's answer. */
export type SounderStatus = 'sent' | 'send_failed' | 'sounding' | 'refused';

export interface EvacuationSounder {
  start(): void;
  stop(): void;
  /** Sends the evacuate command for a permit just suspended (never throws; the outcome is recorded). */
  sound(permit: PermitsTable, why: string): Promise<void>;
}

export function createEvacuationSounder(core: PermitCore): EvacuationSounder {
  const { db, bus, clock, logger, sendCommand } = core.deps;
  /** Command id → the permit it sounds for. */
  const awaited = new Map<string, { permitId: string; gw: string; device: string }>();

  async function record(
    permitId: string,
    e: { command: string; gw: string; device: string; status: SounderStatus; message: string },
  ): Promise<void> {
    await appendAudit(db, {
      ts: clock(),
      actor: 'system',
      actorKind: 'system',
      address: null,
      action: 'permit.sounder',
      target: { kind: 'permit', id: permitId },
      after: e,
    });
    const p = await getPermit(db, permitId);
    if (p !== undefined) core.emit(p, { kind: 'sounder', ...e });
  }

  const onResult = ({ gw, result }: { gw: string; result: CommandResult }) => {
    const w = awaited.get(result.id);
    if (w === undefined || w.gw !== gw) return;
    awaited.delete(result.id);
    const status: SounderStatus = result.ok ? 'sounding' : 'refused';
    const message =
      result.message ?? (result.ok ? 'sounder on' : 'the gateway did not switch the sounder on');
    if (result.ok)
      logger.warn({ permit: w.permitId, gw, device: w.device, message }, 'evacuation sounder on');
    else
      logger.error(
        { permit: w.permitId, gw, device: w.device, message },
        'evacuation sounder NOT on: warn the people at the site another way',
      );
    record(w.permitId, { command: result.id, gw, device: w.device, status, message }).catch((err: unknown) =>
      logger.error({ err, permit: w.permitId }, 'could not record the sounder answer'),
    );
  };

  return {
    start() {
      bus.on('commandResult', onResult);
    },
    stop() {
      bus.off('commandResult', onResult);
    },
    async sound(p, why) {
      const device = p.monitor_device;
      const gw = p.monitor_gw;
      if (device === null || gw === null) return;
      const cmd: Command = {
        v: 1,
        id: `evacuate-${randomUUID()}`,
        type: 'evacuate',
        device,
        reason: `permit ${p.id} (${p.location}): ${why}`.slice(0, 256),
      };
      // Registered before sending: the gateway may answer before the broker's PUBACK is back.
      awaited.set(cmd.id, { permitId: p.id, gw, device });
      if (awaited.size > MAX_AWAITED) {
        const oldest = awaited.keys().next().value;
        if (oldest !== undefined) awaited.delete(oldest);
      }
      let status: SounderStatus = 'sent';
      let message = `evacuate sent to gateway ${gw} for ${device}`;
      try {
        await withTimeout(sendCommand(gw, cmd), 5_000, 'sending the evacuate command');
      } catch (err) {
        awaited.delete(cmd.id);
        status = 'send_failed';
        message = `evacuate not sent to gateway ${gw}: ${(err as Error).message}`;
        logger.error({ err, permit: p.id, gw, device }, 'evacuate command could not be sent');
      }
      try {
        await record(p.id, { command: cmd.id, gw, device, status, message });
      } catch (err) {
        logger.error({ err, permit: p.id }, 'could not record the evacuate command');
      }
    },
  };
}
