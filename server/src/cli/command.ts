import type { Logger } from 'pino';
import type { ServerConfig } from '../config.js';
import type { Actor } from '../db/audit.js';
import type { Db } from '../db/database.js';

export interface CommandContext {
  config: ServerConfig;
  db: Db;
  logger: Logger;
  out(line: string): void;
}

export interface Command {
  /** e.g. `admin create NAME [--role ROLE] [--area AREA]`. */
  usage: string;
  summary: string;
  /** Words after the command's own name. Throws UsageError for wrong usage. */
  run(args: string[], ctx: CommandContext): Promise<void>;
}

/**
 * A command that works on DATA_DIR's files itself (backup, restore): the database is not opened
 * (nor created and migrated) for it, since restoring needs an empty DATA_DIR.
 */
export interface FileCommand {
  usage: string;
  summary: string;
  database: false;
  run(args: string[], ctx: Omit<CommandContext, 'db'>): Promise<void>;
}

/** Wrong usage: printed with the command's usage line, exit 2. */
export class UsageError extends Error {}

/** Who a command's changes are by, in the audit log: the server's host, not a user. */
export const CLI_ACTOR: Actor = { actor: 'cli', actorKind: 'cli', address: null };
