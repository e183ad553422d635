/**
 * The command dispatcher. A message on `gaswatch/v1/{gw}/cmd` is parsed (`CommandSchema`), the
 * command's handler plans it (a refusal changes nothing) and applies it, and exactly one
 * `cmd/result` answers it: also a refused, failed or invalid command, as long as it has a usable
 * id (a message that is not JSON gets none). Reloads run one at a time.
 */
import { type Command, CommandSchema } from '@gaswatch/shared';
import type { Logger } from 'pino';
import type { Buses } from '../buses.js';
import type { Clock } from '../clock.js';
import type { DeviceReports } from '../device-reports.js';
import type { LiveConfig } from '../runtime.js';
import type { Uplink } from '../uplink.js';
import { cancelBumpTests, createBumpTestCommand } from './bump-test.js';
import type { CommandHandler, CommandOutcome } from './command.js';
import { createEvacuate } from './evacuate.js';
import { createReloadConfig } from './reload-config.js';
import { createSilence } from './silence.js';

export type { CommandOutcome } from './command.js';

export interface Commands {
  /** Runs a parsed command as if it came from the server; resolves with its outcome, publishes nothing. */
  run(cmd: Command): Promise<CommandOutcome>;
  /** A message from the command topic: parsed, run, answered on cmd/result. */
  receive(payload: Buffer): void;
  /** Waits for a reload under way, then ends open bump-test windows without a verdict. */
  stop(): Promise<void>;
}

/** CommandResult.message holds at most 512 characters; a longer one is cut with an ellipsis. */
const fitMessage = (m: string) => (m.length <= 512 ? m : `${m.slice(0, 511)}…`);

/** Plan, then (unless refused) apply in the same tick. */
function execute<C extends Command, P>(
  h: CommandHandler<C, P>,
  cmd: C,
): CommandOutcome | Promise<CommandOutcome> {
  const planned = h.plan(cmd);
  return planned.ok ? h.apply(planned.plan) : planned;
}

export function createCommands(ctx: {
  live: LiveConfig;
  buses: Buses;
  reports: DeviceReports;
  uplink: Uplink;
  clock: Clock;
  logger: Logger;
  configFile: string | undefined;
  running(): boolean;
  /** After a reload_config was applied (the gateway republishes its Home Assistant discovery). */
  onReloaded?: () => void;
}): Commands {
  const { uplink, clock, logger: log } = ctx;
  const iso = () => new Date(clock.now()).toISOString();
  const silence = createSilence(ctx);
  const bumpTest = createBumpTestCommand(ctx);
  const evacuate = createEvacuate(ctx);
  const reload = createReloadConfig(ctx);
  /** The last reload; never rejects (each reload plans against what the previous one applied). */
  let reloads: Promise<unknown> = Promise.resolve();

  async function run(cmd: Command): Promise<CommandOutcome> {
    switch (cmd.type) {
      case 'silence':
        return execute(silence, cmd);
      case 'bump_test':
        return execute(bumpTest, cmd);
      case 'evacuate':
        return execute(evacuate, cmd);
      case 'reload_config': {
        const next = reloads.then(async () => {
          const outcome = await execute(reload, cmd);
          if (outcome.ok) ctx.onReloaded?.();
          return outcome;
        });
        reloads = next.catch(() => undefined);
        return next;
      }
    }
  }

  function answer(id: string, r: CommandOutcome): Promise<void> {
    return uplink.publish('cmdResult', {
      v: 1,
      id,
      ok: r.ok,
      ts: iso(),
      ...(r.message ? { message: fitMessage(r.message) } : {}),
    });
  }

  /** The command, or undefined when it is invalid (answered with the reason when it has an id). */
  function parse(payload: Buffer): Command | undefined {
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      log.warn('command is not JSON; ignored');
      return undefined;
    }
    const parsed = CommandSchema.safeParse(json);
    if (parsed.success) return parsed.data;
    const message = parsed.error.issues
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    log.warn({ message }, 'invalid command');
    const id = (json as { id?: unknown })?.id;
    if (typeof id === 'string' && id.length > 0 && id.length <= 64)
      answer(id, { ok: false, message: message.slice(0, 500) }).catch(() => {});
    return undefined;
  }

  return {
    run,
    receive(payload) {
      const cmd = parse(payload);
      if (!cmd) return;
      log.info({ cmd }, 'command received');
      void run(cmd)
        .catch((err: Error) => ({ ok: false, message: err.message }))
        .then((r) => answer(cmd.id, r))
        .catch((err: Error) => log.warn({ err: err.message, id: cmd.id }, 'command result not published'));
    },
    async stop() {
      await reloads;
      cancelBumpTests(ctx.buses.devices.values(), 'gateway stopping');
    },
  };
}
