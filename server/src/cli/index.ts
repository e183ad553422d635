import type { Logger } from 'pino';
import type { ServerConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { ServerError } from '../errors.js';
import { type Command, type FileCommand, UsageError } from './command.js';

/**
 * `gaswatch-server <command> …`: the administrative commands (SPEC §9). Each runs with the same
 * environment as the server, opens (and migrates) the database it names, does one thing, prints
 * the result on stdout and exits: 0 done, 2 wrong usage, 1 failed (a refusal such as
 * `gateway_exists` is one stderr line ending in its code in parentheses).
 */
const COMMANDS: Record<string, () => Promise<Command | FileCommand>> = {
  'admin create': async () => (await import('./admin.js')).adminCreate,
  'admin password': async () => (await import('./admin.js')).adminPassword,
  'token create': async () => (await import('./token.js')).tokenCreate,
  'gateway create': async () => (await import('./gateway.js')).gatewayCreate,
  'gateway rotate': async () => (await import('./gateway.js')).gatewayRotate,
  'gateway list': async () => (await import('./gateway.js')).gatewayList,
  'mqtt export': async () => (await import('./mqtt.js')).mqttExport,
  backup: async () => (await import('./backup.js')).backup,
  restore: async () => (await import('./backup.js')).restore,
};

function usage(): string {
  return [
    'usage: gaswatch-server                 run the server',
    ...Object.keys(COMMANDS).map((name) => `       gaswatch-server ${name} …`),
    '(each command takes the environment the server does: DATA_DIR or DATABASE_URL)',
  ].join('\n');
}

/** Runs `argv` (the words after `gaswatch-server`); resolves to the exit code. */
export async function runCommand(argv: string[], config: ServerConfig, logger: Logger): Promise<number> {
  const name = Object.keys(COMMANDS).find((n) => n.split(' ').every((w, i) => argv[i] === w));
  if (name === undefined) {
    process.stderr.write(`gaswatch-server: unknown command "${argv.join(' ')}"\n${usage()}\n`);
    return 2;
  }
  const load = COMMANDS[name];
  if (load === undefined) return 2;
  const command = await load();
  const args = argv.slice(name.split(' ').length);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const db = 'database' in command ? null : (await openDatabase(config.database, logger)).db;
  try {
    if ('database' in command) await command.run(args, { config, logger, out });
    else if (db !== null) await command.run(args, { config, db, logger, out });
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(
        `gaswatch-server ${name}: ${err.message}\nusage: gaswatch-server ${command.usage}\n`,
      );
      return 2;
    }
    // A refusal with a reason (the gateway exists, no such user): said in one line with its code.
    if (err instanceof ServerError && err.statusCode !== undefined && err.statusCode < 500) {
      process.stderr.write(`gaswatch-server ${name}: ${err.message} (${err.code})\n`);
      return 1;
    }
    throw err;
  } finally {
    await db?.destroy();
  }
}
