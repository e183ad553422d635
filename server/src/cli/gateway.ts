import { type Gateway, GatewayIdSchema } from '../db/gateways.js';
import { createGatewayService } from '../gateways/service.js';
import { CLI_ACTOR, type Command, type CommandContext, UsageError } from './command.js';

/** The audit log's actor of a command run on the server's host. */

function gatewayId(arg: string | undefined): string {
  if (arg === undefined) throw new UsageError('which gateway? give its ID');
  const parsed = GatewayIdSchema.safeParse(arg);
  if (!parsed.success) throw new UsageError(`"${arg}": ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

const service = (ctx: CommandContext) => createGatewayService({ db: ctx.db, clock: Date.now });

function printCredentials(out: CommandContext['out'], g: Gateway, password: string): void {
  out(`gateway: ${g.id} (${g.area === null ? 'no area' : `area ${g.area}`})`);
  out(`username: ${g.id}`);
  out(`password: ${password}`);
}

/**
 * `gateway create ID [--area AREA]`: MQTT credentials for a gateway, for installers without the
 * console. The generated password is printed once (`password: …`) and stored only as its hash.
 */
export const gatewayCreate: Command = {
  usage: 'gateway create ID [--area AREA]',
  summary: "provisions a gateway's MQTT login and prints its generated password once",
  async run(args, ctx) {
    const rest = [...args];
    let area: string | null = null;
    const flag = rest.findIndex((a) => a === '--area' || a.startsWith('--area='));
    if (flag >= 0) {
      const [word] = rest.splice(flag, 1);
      const value = word?.includes('=') ? word.slice('--area='.length) : rest.splice(flag, 1)[0];
      if (!value) throw new UsageError('--area needs an AREA');
      area = value;
    }
    if (rest.length > 1) throw new UsageError(`one ID only, got: ${rest.join(' ')}`);
    const { gateway, password } = await service(ctx).provision({ id: gatewayId(rest[0]), area }, CLI_ACTOR);
    printCredentials(ctx.out, gateway, password);
  },
};

/**
 * `gateway rotate ID`: a new generated password, printed once; the old one stops working. A
 * gateway connected to the embedded broker of a running server keeps its connection until it
 * reconnects (the console's rotation cuts it at once).
 */
export const gatewayRotate: Command = {
  usage: 'gateway rotate ID',
  summary: "replaces a gateway's MQTT password with a generated one and prints it once",
  async run(args, ctx) {
    if (args.length > 1) throw new UsageError(`one ID only, got: ${args.join(' ')}`);
    const { gateway, password } = await service(ctx).rotate(gatewayId(args[0]), CLI_ACTOR);
    printCredentials(ctx.out, gateway, password);
  },
};

/** `gateway list`: every provisioned gateway, revoked ones marked. */
export const gatewayList: Command = {
  usage: 'gateway list',
  summary: 'lists the provisioned gateways',
  async run(args, ctx) {
    if (args.length > 0) throw new UsageError(`no arguments, got: ${args.join(' ')}`);
    const all = await service(ctx).list();
    for (const g of all)
      ctx.out(
        [
          g.id,
          g.area === null ? '-' : `area ${g.area}`,
          `created ${g.createdAt}`,
          g.rotatedAt === null ? '' : `rotated ${g.rotatedAt}`,
          g.revokedAt === null ? '' : `REVOKED ${g.revokedAt}`,
        ]
          .filter(Boolean)
          .join('  '),
      );
    if (all.length === 0) ctx.out('no gateways provisioned');
  },
};
