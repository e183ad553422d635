import { TLSSocket } from 'node:tls';
import { parseTopic, TOPIC_ROOT, topics } from '@gaswatch/shared';
import type { AedesPublishPacket, AuthenticateError, Client, Subscription } from 'aedes';
import type { Logger } from 'pino';

/** How the embedded broker checks a gateway's credentials (db/gateways.ts over the SQL database). */
export interface GatewayCheck {
  /** `id` is a provisioned, not revoked gateway and `password` is its password. */
  password(id: string, password: string): Promise<boolean>;
  /** `id` (a verified client certificate's CN) is a provisioned, not revoked gateway. */
  certificate(id: string): Promise<boolean>;
}

export type DeniedAction = 'connect' | 'publish' | 'subscribe';

export interface GatewayAccessOptions {
  check: GatewayCheck;
  logger: Logger;
  /** Counts a refusal (gaswatch_mqtt_denied_total). */
  onDenied(action: DeniedAction): void;
  clock?: () => number;
}

/** What a connection authenticated as; fixed for the life of the connection. */
interface Identity {
  gw: string;
  /** `gaswatch/v1/{gw}/`: everything the gateway may publish starts with it. */
  prefix: string;
  cmd: string;
  /** The gateway's access epoch when its credentials were checked (see `cut`). */
  epoch: number;
}

/** Why a connection is refused: its CONNACK return code and the reason logged. */
interface Refusal {
  code: number;
  why: string;
  gw: string | null;
}

// MQTT 3.1.1 CONNACK return codes (aedes' AuthErrorCode is a const enum isolated modules cannot read).
const SERVER_UNAVAILABLE = 3;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;
const IDENTIFIER_REJECTED = 2;

const TIME_TOPIC = topics.time();
const LOG_EVERY_MS = 60_000;
const LOG_LINES_PER_WINDOW = 20;

/**
 * A gateway is only itself on the embedded broker (SPEC §9): it connects as its id (username and
 * password, or a client certificate whose CN is the id), publishes only under
 * `gaswatch/v1/{its id}/`, and subscribes to (and is sent) only its own `cmd` topic and the time
 * beacon. The server's own traffic goes through aedes.publish, which no hook sees.
 *
 * Credentials are checked once per connection (one indexed SELECT and a 101-iteration PBKDF2,
 * ~0.1 ms), so a reconnect storm needs no cache, and a rotation or revocation holds from the next
 * connect on; `cut` ends the live connections at once. Every message's check is a string prefix
 * comparison against what the connection authenticated as: no I/O on the ingest path.
 */
export function createGatewayAccess(opts: GatewayAccessOptions) {
  const log = opts.logger.child({ part: 'mqtt-access' });
  const clock = opts.clock ?? Date.now;
  const identities = new WeakMap<Client, Identity>();
  /** Connected clients by client id, for `cut` and the client-id takeover check. */
  const live = new Map<string, Client>();
  /** Bumped by every rotation or revocation: a check that began before it does not count. */
  const epochs = new Map<string, number>();
  const epochOf = (gw: string) => epochs.get(gw) ?? 0;

  // A hostile or misconfigured client may be refused thousands of times a minute: the log gets the
  // first lines of each minute and how many more there were; the metric counts them all.
  let windowStart = Number.NEGATIVE_INFINITY;
  let logged = 0;
  let suppressed = 0;
  const denied = (action: DeniedAction, fields: Record<string, unknown>, why: string) => {
    opts.onDenied(action);
    const now = clock();
    if (now - windowStart >= LOG_EVERY_MS) {
      if (suppressed > 0) log.warn({ suppressed }, 'more MQTT refusals in the last minute, not logged');
      windowStart = now;
      logged = 0;
      suppressed = 0;
    }
    if (logged < LOG_LINES_PER_WINDOW) {
      logged++;
      log.warn({ action, ...fields }, `MQTT ${action} refused: ${why}`);
    } else suppressed++;
  };

  /** The certificate the client presented (its CN, and whether MQTT_CA issued it); undefined: none. */
  const certificateOf = (client: Client): { cn: string | null; trusted: boolean } | undefined => {
    const conn = client.conn;
    if (!(conn instanceof TLSSocket)) return undefined;
    const cert = conn.getPeerCertificate();
    if (!cert || Object.keys(cert).length === 0) return undefined;
    const cn = cert.subject?.CN;
    return { cn: typeof cn === 'string' ? cn : null, trusted: conn.authorized };
  };

  /** Who the client is, or why it may not connect. */
  const identify = async (
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<Identity | Refusal> => {
    const cert = certificateOf(client);
    let gw: string;
    let check: () => Promise<boolean>;
    if (cert !== undefined) {
      // A certificate that does not verify is refused outright, not taken as "no certificate".
      if (!cert.trusted || cert.cn === null)
        return { code: NOT_AUTHORIZED, why: 'client certificate not issued by MQTT_CA', gw: cert.cn };
      if (username !== undefined && username !== cert.cn)
        return { code: NOT_AUTHORIZED, why: 'username is not the certificate CN', gw: cert.cn };
      gw = cert.cn;
      check = () => opts.check.certificate(gw);
    } else {
      if (username === undefined || password === undefined)
        return { code: NOT_AUTHORIZED, why: 'no username and password (anonymous)', gw: null };
      gw = username;
      const secret = password.toString('utf8');
      check = () => opts.check.password(gw, secret);
    }
    // A gateway may not take over another one's session (aedes would close the other connection).
    const holder = live.get(client.id);
    const holderGw = holder && identities.get(holder)?.gw;
    if (holderGw !== undefined && holderGw !== gw)
      return { code: IDENTIFIER_REJECTED, why: `client id ${client.id} is in use by another gateway`, gw };
    const epoch = epochOf(gw);
    let ok: boolean;
    try {
      ok = await check();
    } catch (err) {
      log.error({ err, gw }, 'credentials could not be checked (database)');
      return { code: SERVER_UNAVAILABLE, why: 'credentials could not be checked', gw };
    }
    if (!ok)
      return cert
        ? { code: NOT_AUTHORIZED, why: 'certificate CN is not a provisioned gateway', gw }
        : { code: BAD_USERNAME_OR_PASSWORD, why: 'unknown gateway or wrong password', gw };
    if (epochOf(gw) !== epoch) return { code: NOT_AUTHORIZED, why: 'credentials changed while checking', gw };
    return { gw, prefix: `${TOPIC_ROOT}/${gw}/`, cmd: topics.cmd(gw), epoch };
  };

  return {
    authenticate(
      client: Client,
      username: Readonly<string | undefined>,
      password: Readonly<Buffer | undefined>,
      done: (error: AuthenticateError | null, success: boolean | null) => void,
    ): void {
      void identify(client, username, password).then((who) => {
        if ('prefix' in who) {
          identities.set(client, who);
          done(null, true);
          return;
        }
        const address = 'remoteAddress' in client.conn ? client.conn.remoteAddress : undefined;
        denied('connect', { gw: who.gw ?? undefined, clientId: client.id, address }, who.why);
        done(Object.assign(new Error(who.why), { returnCode: who.code }) as AuthenticateError, false);
      });
    },

    /** True when the client may publish on `topic`; counts and logs a refusal. Runs per message. */
    mayPublish(client: Client | null, topic: string): boolean {
      const who = client === null ? undefined : identities.get(client);
      if (who !== undefined && topic.startsWith(who.prefix)) return true;
      denied(
        'publish',
        { gw: who?.gw, clientId: client?.id, topic: topic.slice(0, 200) },
        'not its own topic',
      );
      return false;
    },

    /**
     * Whether any client may ever be sent a message on `topic`: a gateway's command topic or the
     * time beacon, what authorizeSubscribe and authorizeForward let through. The broker keeps
     * retained messages only there (broker/retained.ts).
     */
    deliverable(topic: string): boolean {
      if (topic === TIME_TOPIC) return true;
      const address = parseTopic(topic);
      return address?.kind === 'cmd' && topic === topics.cmd(address.gw);
    },

    authorizeSubscribe(
      client: Client,
      sub: Subscription,
      done: (error: Error | null, subscription?: Subscription | null) => void,
    ): void {
      const who = identities.get(client);
      const allowed = who !== undefined && (sub.topic === who.cmd || sub.topic === TIME_TOPIC);
      if (!allowed) {
        const fields = { gw: who?.gw, clientId: client.id, topic: sub.topic.slice(0, 200) };
        denied('subscribe', fields, 'not its own commands nor the time beacon');
      }
      // A refusal is negated, not an error: SUBACK says 0x80 for this topic, the others stand.
      done(null, allowed ? sub : null);
    },

    /**
     * Also guards what no SUBSCRIBE asked for: messages queued for a persistent session of the same
     * client id and retained messages, so a gateway never receives another one's commands.
     */
    authorizeForward(client: Client, packet: AedesPublishPacket): AedesPublishPacket | null {
      const who = identities.get(client);
      return who !== undefined && (packet.topic === who.cmd || packet.topic === TIME_TOPIC) ? packet : null;
    },

    /** aedes' `clientReady`: a connection whose gateway changed since its check is closed now. */
    onClientReady(client: Client): void {
      const who = identities.get(client);
      if (who === undefined) return;
      if (epochOf(who.gw) !== who.epoch) client.close();
      else live.set(client.id, client);
    },

    onClientDisconnect(client: Client): void {
      if (live.get(client.id) === client) live.delete(client.id);
    },

    /** A rotation or revocation: the gateway's live connections end, checks under way are void. */
    cut(gw: string): number {
      epochs.set(gw, epochOf(gw) + 1);
      let closed = 0;
      for (const client of live.values()) {
        if (identities.get(client)?.gw !== gw) continue;
        client.close();
        closed++;
      }
      if (closed > 0) log.info({ gw, closed }, 'gateway credentials changed: connection closed');
      return closed;
    },
  };
}

export type GatewayAccess = ReturnType<typeof createGatewayAccess>;
