import { hashPassword } from '../auth/passwords.js';
import { appendAudit } from '../db/audit.js';
import { generatePassword } from '../db/secrets.js';
import { findUser, insertUser, revokeSessionsOf, toUser, UsernameSchema, updateUser } from '../db/users.js';
import { CLI_ACTOR, type Command, UsageError } from './command.js';

function usernameArg(args: string[]): string {
  if (args.length !== 1)
    throw new UsageError(
      args.length === 0 ? 'which user? give a NAME' : `one NAME only, got: ${args.join(' ')}`,
    );
  const parsed = UsernameSchema.safeParse(args[0]);
  if (!parsed.success) throw new UsageError(`"${args[0]}": ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/**
 * `admin create NAME`: the first admin (SPEC §9), or another one. The generated password is
 * printed once, as `password: …`, and stored only as its argon2id hash.
 */
export const adminCreate: Command = {
  usage: 'admin create NAME',
  summary: 'creates an admin with a generated password and prints it once',
  async run(args, { db, out }) {
    const username = usernameArg(args);
    const password = generatePassword();
    const passwordHash = await hashPassword(password);
    const now = Date.now();
    await db.transaction().execute(async (tx) => {
      const row = await insertUser(tx, {
        username,
        displayName: username,
        role: 'admin',
        area: null,
        passwordHash,
        now,
      });
      await appendAudit(tx, {
        ts: now,
        ...CLI_ACTOR,
        action: 'user.create',
        target: { kind: 'user', id: username },
        after: toUser(row),
      });
    });
    out(`user: ${username} (admin, every area)`);
    out(`password: ${password}`);
  },
};

/**
 * `admin password NAME`: a new generated password for a user who lost theirs (any role), printed
 * once; every session of the user ends, and a disabled account stays disabled.
 */
export const adminPassword: Command = {
  usage: 'admin password NAME',
  summary: "replaces a user's password with a generated one and prints it once",
  async run(args, { db, out }) {
    const username = usernameArg(args);
    const password = generatePassword();
    const passwordHash = await hashPassword(password);
    const now = Date.now();
    await db.transaction().execute(async (tx) => {
      if ((await findUser(tx, username)) === undefined) throw new UsageError(`no user named ${username}`);
      await updateUser(tx, username, { password_hash: passwordHash }, now);
      await revokeSessionsOf(tx, username, now);
      await appendAudit(tx, {
        ts: now,
        ...CLI_ACTOR,
        action: 'user.password_reset',
        target: { kind: 'user', id: username },
      });
    });
    out(`user: ${username}`);
    out(`password: ${password}`);
  },
};
