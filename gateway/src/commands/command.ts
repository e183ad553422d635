/**
 * What every command handler is: a plan (checks against the running gateway; a refusal changes
 * nothing) and an apply (makes the change). commands/index.ts runs them and answers on cmd/result.
 */
import type { Command } from '@gaswatch/shared';

/** What a command did, as reported on cmd/result. */
export interface CommandOutcome {
  ok: boolean;
  message?: string;
}

/** Either what apply will do, or why the command is refused (nothing was changed). */
export type Planned<P> = { ok: true; plan: P } | { ok: false; message: string };

export interface CommandHandler<C extends Command, P> {
  /**
   * Synchronous, and apply is called in the same tick: two commands arriving together cannot
   * both pass a check (say, no bump test running) before either applies.
   */
  plan(cmd: C): Planned<P>;
  apply(plan: P): CommandOutcome | Promise<CommandOutcome>;
}

export type CommandOf<T extends Command['type']> = Extract<Command, { type: T }>;
