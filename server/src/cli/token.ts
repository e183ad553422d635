import { RoleSchema } from '@gaswatch/shared';
import { appendAudit } from '../db/audit.js';
import { insertToken, toApiToken } from '../db/tokens.js';
import { CLI_ACTOR, type Command, UsageError } from './command.js';

/** `--name value` pairs after the positional words; anything else is wrong usage. */
function parseArgs(args: string[], flags: string[]): { words: string[]; opts: Record<string, string> } {
  const words: string[] = [];
  const opts: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (!a.startsWith('--')) {
      words.push(a);
      continue;
    }
    const name = a.slice(2);
    const value = args[i + 1];
    if (!flags.includes(name)) throw new UsageError(`unknown option ${a}`);
    if (value === undefined || value.startsWith('--')) throw new UsageError(`${a} needs a value`);
    opts[name] = value;
    i++;
  }
  return { words, opts };
}

/**
 * `token create NAME --role ROLE [--area AREA]`: an API token for an integration (Prometheus's
 * scrape of /metrics, a county dashboard), its secret printed once as `token: …`.
 */
export const tokenCreate: Command = {
  usage: 'token create NAME --role viewer|operator|supervisor|admin [--area AREA]',
  summary: 'creates an API token and prints its secret once',
  async run(args, { db, out }) {
    const { words, opts } = parseArgs(args, ['role', 'area']);
    if (words.length !== 1) throw new UsageError('give the token one NAME (what it is for, e.g. prometheus)');
    const role = RoleSchema.safeParse(opts.role);
    if (!role.success) throw new UsageError('--role must be viewer, operator, supervisor or admin');
    const area = opts.area ?? null;
    if (
      area !== null &&
      (await db.selectFrom('areas').select('id').where('id', '=', area).executeTakeFirst()) === undefined
    )
      throw new UsageError(`no area ${area}`);
    const now = Date.now();
    const secret = await db.transaction().execute(async (tx) => {
      const made = await insertToken(tx, {
        name: words[0] ?? '',
        role: role.data,
        area,
        createdBy: 'cli',
        now,
        expiresAt: null,
      });
      await appendAudit(tx, {
        ts: now,
        ...CLI_ACTOR,
        action: 'token.create',
        target: { kind: 'token', id: made.row.id },
        after: toApiToken(made.row),
      });
      return made.secret;
    });
    out(`token: ${secret}`);
  },
};
