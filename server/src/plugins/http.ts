import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import type { Access } from '../auth/principal.js';
import { ServerError } from '../errors.js';

/** `limit: Too big: expected number to be <=1000; (root): Unrecognized key: "dev"` */
function describeIssues(issues: readonly { instancePath: string; message?: string }[]): string {
  return issues
    .map(
      (i) =>
        `${i.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(root)'}: ${i.message ?? 'invalid'}`,
    )
    .join('; ');
}

/** Fastify's own 4xx (FST_ERR_CTP_…) in the project's codes, by status. */
const FRAMEWORK_CODES: Record<number, string> = {
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

/**
 * The one error handler: every failed request answers `{"error": code, "message": text}`.
 * Request validation (the routes' zod schemas) → 400 `bad_request` listing every problem with its
 * path; a ServerError → its statusCode and code (HttpError, AlarmError, StoreError → 503
 * `store_unavailable`), on a 5xx with its public message only (the detail is logged); Fastify's
 * own 4xx (bad JSON, wrong content type, body too large) → its status and our code for it;
 * anything else → 500 `internal`, logged, its message hidden.
 */
export function errorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (hasZodFastifySchemaValidationErrors(err))
    return reply.code(400).send({ error: 'bad_request', message: describeIssues(err.validation) });
  if (err.validation) return reply.code(400).send({ error: 'bad_request', message: err.message });
  if (err instanceof ServerError && err.statusCode !== undefined) {
    if (err.statusCode < 500)
      return reply.code(err.statusCode).send({ error: err.code, message: err.message });
    request.log.warn({ err: err.message, code: err.code, url: request.url }, 'request failed');
    return reply
      .code(err.statusCode)
      .send({ error: err.code, message: err.publicMessage ?? 'internal server error' });
  }
  const status = err.statusCode ?? 500;
  if (status < 500)
    return reply.code(status).send({ error: FRAMEWORK_CODES[status] ?? 'bad_request', message: err.message });
  request.log.error({ err, url: request.url }, 'request failed');
  return reply.code(500).send({ error: 'internal', message: 'internal server error' });
}

/**
 * Errors Fastify raises before routing (an id longer than maxParamLength, a malformed URL): the
 * same `{error, message}` 400 as every other bad request, not Fastify's own shape and 414.
 */
export function frameworkErrors(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  void reply.code(400).send({ error: 'bad_request', message: err.message });
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Who may call each route, by `METHOD /url` as registered (the access matrix test reads it). */
    routeAccess: ReadonlyMap<string, Access>;
  }
}

/**
 * HTTP conventions shared by every route: zod schemas validate requests, serialise responses and
 * produce the OpenAPI document at /docs (one source, fastify-type-provider-zod); one error
 * handler; one 404 shape.
 */
async function httpPlugin(app: FastifyInstance): Promise<void> {
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  // Every route says who may call it (SPEC §9, plugins/auth.ts); one that does not fails the
  // start, so a new route cannot ship unguarded. /docs (the API's description) is public.
  const routeAccess = new Map<string, Access>();
  app.decorate('routeAccess', routeAccess);
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/docs')) route.config = { ...route.config, access: 'public' };
    const access = route.config?.access;
    if (access === undefined)
      throw new Error(
        `route ${String(route.method)} ${route.url} declares no config.access (public or a role)`,
      );
    for (const method of [route.method].flat()) routeAccess.set(`${method} ${route.url}`, access);
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` }),
  );
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'gaswatch server',
        description: 'Devices, readings, alarms and live events of gaswatch (SPEC §5)',
        version: '0.1.0',
      },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
}

export default fp(httpPlugin, { name: 'http', fastify: '5.x' });
