import { AreaIdSchema, IdSchema } from '@gaswatch/shared';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { auditActor, principalOf } from '../auth/principal.js';
import { checkAssignableArea } from '../auth/scope.js';
import { type Gateway, GatewayIdSchema, GatewayNotFoundError } from '../db/gateways.js';
import { HttpError } from '../errors.js';
import { ErrorSchema, IsoTimeSchema, limitSchema } from './schemas.js';

const LoginSchema = z
  .object({
    area: z.string().nullable(),
    createdBy: z.string(),
    createdAt: IsoTimeSchema,
    rotatedAt: IsoTimeSchema.nullable(),
    revokedAt: IsoTimeSchema.nullable(),
  })
  .describe('Its MQTT login (never the password); null for a gateway seen but never provisioned');

const GatewaySchema = z.looseObject({
  id: IdSchema,
  online: z.boolean().describe('Its last status said online (the MQTT will says otherwise when it drops)'),
  login: LoginSchema.nullable(),
});

const CreateBody = z
  .object({
    id: GatewayIdSchema,
    area: z
      .string()
      .min(1)
      .max(64)
      .nullable()
      .default(null)
      .describe('Area of its devices whose site names none'),
  })
  .strict();

const IdParams = z.object({ id: IdSchema }).strict();

const ListQuery = z
  .object({
    state: z
      .enum(['online', 'offline'])
      .optional()
      .describe('online: its last status said online; offline: the others (never heard of, or gone)'),
    text: z.string().min(1).max(64).optional().describe('Only gateways whose id contains this (any case)'),
    area: AreaIdSchema.optional().describe('Only gateways whose own area is this one or lies within it'),
    limit: limitSchema(10_000, 1_000, 'gateways, by id'),
    cursor: IdSchema.optional().describe('nextCursor of the previous page'),
  })
  .strict();

const loginOf = (g: Gateway) => ({
  area: g.area,
  createdBy: g.createdBy,
  createdAt: g.createdAt,
  rotatedAt: g.rotatedAt,
  revokedAt: g.revokedAt,
});

/**
 * Gateways (SPEC §9): what each last said (status) and its MQTT login. Provisioning answers the
 * password once; rotating gives a new one; revoking cuts the gateway off (gateways/service.ts).
 */
const gatewayRoutes: FastifyPluginAsyncZod = async (app) => {
  const { auth } = app;

  /** The gateway's login, if it has one and lies in the caller's area; else 404 as for none. */
  async function visibleLogin(request: Parameters<typeof principalOf>[0], id: string): Promise<Gateway> {
    const g = await app.gateways.get(id);
    if (!auth.canSee(principalOf(request), g.area)) throw new GatewayNotFoundError(id);
    return g;
  }

  app.get(
    '/api/gateways',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['devices'],
        summary: 'Gateways in your area: last status (online, version, outbox depth) and MQTT login',
        querystring: ListQuery,
        response: {
          200: z.object({
            gateways: z.array(GatewaySchema),
            total: z.number().describe('Gateways matching the filters, whatever the cursor'),
            nextCursor: z.string().nullable(),
          }),
          400: ErrorSchema,
        },
      },
    },
    async (request) => {
      const q = request.query;
      const p = principalOf(request);
      // An area the caller does not see reads as one that does not exist (SPEC §9).
      if (q.area !== undefined && !(auth.areas.has(q.area) && auth.canSee(p, q.area)))
        throw new HttpError(400, 'unknown_area', `no area ${q.area} (GET /api/areas lists yours)`);
      const logins = new Map((await app.gateways.list()).map((g) => [g.id, g]));
      const statuses = app.devices.gateways();
      const text = q.text?.toLowerCase();
      const ids = [...new Set([...logins.keys(), ...statuses.keys()])]
        .filter((id) => text === undefined || id.toLowerCase().includes(text))
        .filter(
          (id) => q.state === undefined || (statuses.get(id)?.online === true) === (q.state === 'online'),
        )
        .sort();
      // Seen by whoever sees its area, or one of its devices. A login that sees everything needs
      // no walk over the devices (a million of them, in a city).
      let sees = (_gw: string) => true;
      if (p.area !== null) {
        const withVisibleDevice = new Set<string>();
        for (const d of app.devices.all())
          if (
            !withVisibleDevice.has(d.gw) &&
            auth.canSee(p, auth.areaOf({ gw: d.gw, dev: d.dev, site: d.state?.site }))
          )
            withVisibleDevice.add(d.gw);
        sees = (gw) => withVisibleDevice.has(gw) || auth.canSee(p, auth.areaOf({ gw, dev: null }));
      }
      const inArea = (gw: string) =>
        q.area === undefined || auth.areas.within(auth.areaOf({ gw, dev: null }), q.area);
      const mine = ids.filter((id) => inArea(id) && sees(id));
      const after = q.cursor === undefined ? mine : mine.filter((id) => id > (q.cursor as string));
      const page = after.slice(0, q.limit);
      return {
        gateways: page.map((id) => {
          const g = logins.get(id);
          return { id, online: false, ...statuses.get(id), login: g === undefined ? null : loginOf(g) };
        }),
        total: mine.length,
        nextCursor: after.length > q.limit ? (page.at(-1) ?? null) : null,
      };
    },
  );

  app.post(
    '/api/gateways',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['devices'],
        summary: 'Provisions a gateway: its MQTT username is its id; the password is answered once',
        body: CreateBody,
        response: {
          201: z.object({ id: z.string(), password: z.string(), login: LoginSchema }),
          400: ErrorSchema,
          409: ErrorSchema,
        },
      },
    },
    async (request, reply) => {
      const { id, area } = request.body;
      checkAssignableArea(app, principalOf(request), area);
      const made = await app.gateways.provision({ id, area }, auditActor(request));
      await auth.reload();
      return reply
        .code(201)
        .send({ id: made.gateway.id, password: made.password, login: loginOf(made.gateway) });
    },
  );

  app.post(
    '/api/gateways/:id/rotate',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['devices'],
        summary: 'A new password for the gateway, answered once; the old one stops working at once',
        params: IdParams,
        response: {
          200: z.object({ id: z.string(), password: z.string(), login: LoginSchema }),
          404: ErrorSchema,
          409: ErrorSchema,
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      await visibleLogin(request, id);
      const made = await app.gateways.rotate(id, auditActor(request));
      return { id, password: made.password, login: loginOf(made.gateway) };
    },
  );

  app.delete(
    '/api/gateways/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['devices'],
        summary: 'Revokes a gateway: it is cut off and may not connect again until provisioned anew',
        params: IdParams,
        response: { 200: z.object({ id: z.string(), login: LoginSchema }), 404: ErrorSchema },
      },
    },
    async (request) => {
      const { id } = request.params;
      await visibleLogin(request, id);
      const g = await app.gateways.revoke(id, auditActor(request));
      await auth.reload();
      return { id, login: loginOf(g) };
    },
  );
};

export default gatewayRoutes;
