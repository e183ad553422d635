import {
  closeSync,
  fchmodSync,
  fchownSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { FILTERS, TOPIC_ROOT, topics } from '@gaswatch/shared';
import type { Db } from '../db/database.js';
import { listActiveGateways } from '../db/gateways.js';
import { hashMosquittoPassword } from '../db/mosquitto-password.js';
import { ServerError } from '../errors.js';

/** The server's own login at the broker: MQTT_URL's user and password. */
export interface ServerLogin {
  username: string;
  password: string;
}

/** MQTT_URL's username and password, or null when it carries none (or there is no MQTT_URL). */
export function serverLoginOf(mqttUrl: string | null): ServerLogin | null {
  if (mqttUrl === null) return null;
  const u = new URL(mqttUrl);
  if (u.username === '' || u.password === '') return null;
  return { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
}

export class ExportConflictError extends ServerError {
  constructor(username: string) {
    super(
      'mqtt_user_conflict',
      `gateway ${username} has the server's MQTT username (MQTT_URL): give the server another username`,
    );
  }
}

export interface MosquittoFiles {
  passwordFile: string;
  aclFile: string;
  /** Gateways written (not revoked). */
  gateways: number;
}

/**
 * Mosquitto's password_file and acl_file for the gateways in the database (SPEC §9): every gateway
 * that is not revoked with its hash as stored (the same `$7$` form Mosquitto writes), the server's
 * user when MQTT_URL names one, and pattern rules so each gateway is only itself.
 */
export async function mosquittoFiles(db: Db, server: ServerLogin | null): Promise<MosquittoFiles> {
  const gateways = await listActiveGateways(db);
  const lines = gateways.map((g) => `${g.id}:${g.password_hash}`);
  if (server !== null) {
    if (gateways.some((g) => g.id === server.username)) throw new ExportConflictError(server.username);
    lines.push(`${server.username}:${await hashMosquittoPassword(server.password)}`);
  }
  const acl = [
    '# Written by `gaswatch-server mqtt export`; export again instead of editing (SPEC §9).',
    '# A gateway logs in with its gateway id as username (or a client certificate whose CN is the',
    '# id, with use_identity_as_username), publishes only under its own id, and reads only its',
    "# commands and the server's time beacon.",
    `pattern write ${TOPIC_ROOT}/%u/#`,
    `pattern read ${FILTERS.cmd('%u')}`,
    `pattern read ${topics.time()}`,
    '# Home Assistant MQTT discovery (opt-in per gateway, homeAssistant.discovery): its config',
    '# messages under the default prefix, node id the gateway id (docs/integrations.md).',
    'pattern write homeassistant/+/%u/#',
    ...(server === null
      ? []
      : [
          '',
          '# The server: everything gateways publish, commands to them, the time beacon.',
          `user ${server.username}`,
          `topic readwrite ${TOPIC_ROOT}/#`,
        ]),
    '',
  ];
  return { passwordFile: `${lines.join('\n')}\n`, aclFile: acl.join('\n'), gateways: gateways.length };
}

/**
 * Writes `text` to `file` with `mode` (and owner) by a rename, so a Mosquitto that reloads at that
 * moment reads the old file or the new one, never half of one.
 */
function writeAtomically(file: string, text: string, mode: number, owner?: { uid: number; gid: number }) {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', mode);
  try {
    // Set, not masked by the umask: Mosquitto must be able to read acl_file as its own user.
    fchmodSync(fd, mode);
    if (owner) fchownSync(fd, owner.uid, owner.gid);
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, file);
}

/** Writes DIR/password_file (0600) and DIR/acl_file (0644); returns their paths. */
export function writeMosquittoFiles(
  dir: string,
  files: MosquittoFiles,
  owner?: { uid: number; gid: number },
): { passwordFile: string; aclFile: string } {
  mkdirSync(dir, { recursive: true });
  const passwordFile = join(dir, 'password_file');
  const aclFile = join(dir, 'acl_file');
  writeAtomically(passwordFile, files.passwordFile, 0o600, owner);
  writeAtomically(aclFile, files.aclFile, 0o644, owner);
  return { passwordFile, aclFile };
}
