import { type Actor, appendAudit } from '../db/audit.js';
import type { Db } from '../db/database.js';
import {
  findGateway,
  type Gateway,
  GatewayNotFoundError,
  listGateways,
  provisionGateway,
  revokeGateway,
  rotateGateway,
  toGateway,
} from '../db/gateways.js';

export type { Actor } from '../db/audit.js';

/** A gateway with the password it was just given: shown once, never stored in the clear. */
export interface GatewayCredentials {
  gateway: Gateway;
  password: string;
}

/**
 * Gateway credentials for the HTTP routes, the CLI and the broker (SPEC §9). Each change is one
 * transaction with its audit row (`gateway.provision`, `gateway.rotate`, `gateway.revoke`; before
 * and after without hashes). Errors: GatewayExistsError (409), GatewayNotFoundError (404),
 * GatewayRevokedError (409), InvalidGatewayIdError (400), UnknownAreaError (400).
 */
export interface GatewayService {
  /** A new gateway (or a revoked one again) with a generated password. */
  provision(input: { id: string; area?: string | null }, by: Actor): Promise<GatewayCredentials>;
  /** A new generated password; the old one stops working and a live connection is cut. */
  rotate(id: string, by: Actor): Promise<GatewayCredentials>;
  /** The gateway may no longer connect; a live connection is cut. Repeating it changes nothing. */
  revoke(id: string, by: Actor): Promise<Gateway>;
  /** Every gateway, revoked ones included, by id. */
  list(): Promise<Gateway[]>;
  get(id: string): Promise<Gateway>;
}

export interface GatewayServiceOptions {
  db: Db;
  clock: () => number;
  /**
   * Called after a rotation or revocation is committed: the embedded broker cuts the gateway's
   * live connection (its credentials were checked when it connected, not on every message).
   */
  onAccessChanged?: (id: string) => void;
}

export function createGatewayService(opts: GatewayServiceOptions): GatewayService {
  const { db, clock } = opts;
  const changed = opts.onAccessChanged ?? (() => {});
  const who = (by: Actor) => ({ actor: by.actor, actorKind: by.actorKind, address: by.address });

  return {
    async provision(input, by) {
      const now = clock();
      const { row, password } = await db.transaction().execute(async (tx) => {
        const r = await provisionGateway(tx, {
          id: input.id,
          area: input.area ?? null,
          createdBy: by.actor,
          now,
        });
        await appendAudit(tx, {
          ...who(by),
          ts: now,
          action: 'gateway.provision',
          target: { kind: 'gateway', id: input.id },
          before: r.before && toGateway(r.before),
          after: toGateway(r.row),
        });
        return r;
      });
      return { gateway: toGateway(row), password };
    },

    async rotate(id, by) {
      const now = clock();
      const { row, password } = await db.transaction().execute(async (tx) => {
        const r = await rotateGateway(tx, id, now);
        await appendAudit(tx, {
          ...who(by),
          ts: now,
          action: 'gateway.rotate',
          target: { kind: 'gateway', id },
          before: toGateway(r.before),
          after: toGateway(r.row),
        });
        return r;
      });
      changed(id);
      return { gateway: toGateway(row), password };
    },

    async revoke(id, by) {
      const now = clock();
      const { row, changed: revoked } = await db.transaction().execute(async (tx) => {
        const r = await revokeGateway(tx, id, now);
        if (r.changed)
          await appendAudit(tx, {
            ...who(by),
            ts: now,
            action: 'gateway.revoke',
            target: { kind: 'gateway', id },
            before: toGateway(r.before),
            after: toGateway(r.row),
          });
        return r;
      });
      if (revoked) changed(id);
      return toGateway(row);
    },

    async list() {
      return (await listGateways(db)).map(toGateway);
    },

    async get(id) {
      const row = await findGateway(db, id);
      if (row === undefined) throw new GatewayNotFoundError(id);
      return toGateway(row);
    },
  };
}
