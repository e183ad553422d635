import { resolve } from 'node:path';
import { mosquittoFiles, serverLoginOf, writeMosquittoFiles } from '../gateways/mosquitto-export.js';
import { type Command, UsageError } from './command.js';

function ownerArg(value: string | undefined): { uid: number; gid: number } {
  const m = value === undefined ? null : /^(\d+)(?::(\d+))?$/.exec(value);
  if (!m)
    throw new UsageError('--owner needs UID or UID:GID (numbers, e.g. 1883:1883 for the Mosquitto image)');
  const uid = Number(m[1]);
  return { uid, gid: m[2] === undefined ? uid : Number(m[2]) };
}

/**
 * `mqtt export DIR [--owner UID[:GID]]`: Mosquitto's password_file and acl_file for the provisioned
 * gateways (SPEC §9). Mosquitto reads them as its own user, which must own password_file (0600):
 * `--owner` sets it (as root). Mosquitto applies them on SIGHUP.
 */
export const mqttExport: Command = {
  usage: 'mqtt export DIR [--owner UID[:GID]]',
  summary: "writes Mosquitto's password_file and acl_file for the provisioned gateways",
  async run(args, { config, db, out }) {
    const rest = [...args];
    const flag = rest.findIndex((a) => a === '--owner' || a.startsWith('--owner='));
    let owner: { uid: number; gid: number } | undefined;
    if (flag >= 0) {
      const [word] = rest.splice(flag, 1);
      owner = ownerArg(word?.includes('=') ? word.slice('--owner='.length) : rest.splice(flag, 1)[0]);
    }
    if (rest.length !== 1)
      throw new UsageError(
        rest.length === 0 ? 'where to? give a DIR' : `one DIR only, got: ${rest.join(' ')}`,
      );
    const dir = resolve(rest[0] as string);
    const server = serverLoginOf(config.mqtt.kind === 'external' ? config.mqtt.url : null);
    const files = await mosquittoFiles(db, server);
    const written = writeMosquittoFiles(dir, files, owner);
    out(
      `wrote ${written.passwordFile} (0600): ${files.gateways} gateway${files.gateways === 1 ? '' : 's'}${
        server === null
          ? ' (no server user: MQTT_URL carries no username and password)'
          : `, and the server's user ${server.username}`
      }`,
    );
    out(`wrote ${written.aclFile} (0644)`);
    out(
      'Mosquitto applies them on SIGHUP (systemctl reload mosquitto; docker compose kill -s SIGHUP mosquitto)',
    );
  },
};
