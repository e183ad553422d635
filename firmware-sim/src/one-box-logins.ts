/**
 * The logins a one-box system needs, made on its first start with the server's own commands (the
 * same an installer runs; there is no default password anywhere) and kept in DATA_DIR, mode 0600,
 * for the next start: the demo gateway's MQTT password and the console's admin.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTsNode } from '@gaswatch/shared/testing';

export interface ConsoleLogin {
  username: string;
  password: string;
  /** Where it is kept. */
  file: string;
}

/** `gaswatch-server …` with the server's environment; its output, or an error saying why. */
async function serverCommand(root: string, env: NodeJS.ProcessEnv, args: string[]): Promise<string> {
  const proc = startTsNode(join(root, 'server', 'src', 'main.ts'), args, {
    cwd: root,
    env: { ...env, LOG_LEVEL: 'warn' },
  });
  const code = await proc.exited;
  if (code !== 0) throw new CommandError(args, code, proc.output());
  return proc.output();
}

class CommandError extends Error {
  constructor(
    args: string[],
    readonly exitCode: number | null,
    readonly output: string,
  ) {
    super(`gaswatch-server ${args.join(' ')} exited ${exitCode}:\n${output.slice(-2000)}`);
  }
}

/** Runs `create`; when the refusal is `exists` (the file was lost, the record was not) runs `renew`. */
async function createOrRenew(
  root: string,
  env: NodeJS.ProcessEnv,
  create: string[],
  exists: string,
  renew: string[],
): Promise<string> {
  let out: string;
  try {
    out = await serverCommand(root, env, create);
  } catch (err) {
    if (!(err instanceof CommandError && err.output.includes(`(${exists})`))) throw err;
    out = await serverCommand(root, env, renew);
  }
  const password = /^password: (\S+)$/m.exec(out)?.[1];
  if (password === undefined)
    throw new Error(`gaswatch-server ${create.join(' ')} printed no password:\n${out}`);
  return password;
}

const firstLine = (file: string) => (readFileSync(file, 'utf8').split('\n')[0] ?? '').trim();

/**
 * The demo gateway's MQTT password file (`gateway create ID` on the first start), for the
 * gateway's `uplink.passwordFile`; returns its path.
 */
export async function gatewayPasswordFile(
  root: string,
  dataDir: string,
  serverEnv: NodeJS.ProcessEnv,
  gatewayId: string,
): Promise<string> {
  const file = join(dataDir, `gateway-${gatewayId}.password`);
  if (existsSync(file) && firstLine(file) !== '') return file;
  const password = await createOrRenew(root, serverEnv, ['gateway', 'create', gatewayId], 'gateway_exists', [
    'gateway',
    'rotate',
    gatewayId,
  ]);
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return file;
}

/** The console's admin (`admin create admin` on the first start), kept in DATA_DIR/console-login.txt. */
export async function consoleLogin(
  root: string,
  dataDir: string,
  serverEnv: NodeJS.ProcessEnv,
): Promise<ConsoleLogin> {
  const file = join(dataDir, 'console-login.txt');
  const username = 'admin';
  if (existsSync(file)) {
    const password = /^password: (\S+)$/m.exec(readFileSync(file, 'utf8'))?.[1];
    if (password !== undefined) return { username, password, file };
  }
  const password = await createOrRenew(root, serverEnv, ['admin', 'create', username], 'user_exists', [
    'admin',
    'password',
    username,
  ]);
  writeFileSync(
    file,
    `# The one-box console's admin, made by gaswatch-server's admin commands. Delete this file\n# for a new password on the next start.\nusername: ${username}\npassword: ${password}\n`,
    { mode: 0o600 },
  );
  return { username, password, file };
}
