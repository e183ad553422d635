import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import type { NotificationChannel } from '../notify/channel.js';
import alarmRoutes from '../routes/alarms.js';
import '../types.js';
import type { Timers } from '../timers.js';
import { type AlarmEngine, createAlarmEngine } from './engine.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The alarm engine (lifecycle, escalation, acknowledgement). */
    alarms: AlarmEngine;
  }
}

export interface AlarmsPluginOptions {
  /** Timers for escalation and offline sweeps (tests pass simulated ones). */
  timers?: Timers;
  /** Channels to use instead of building them from GASWATCH_CONFIG. */
  channels?: Map<string, NotificationChannel>;
  /** Offline sweep period, ms (default 1000). */
  offlineSweepMs?: number;
}

/**
 * The alarm engine as a Fastify plugin: built from core's decorators (config.gaswatch, clock,
 * bus, store, sendCommand, devices, metrics), started at registration (the store is already
 * started), stopped in preClose while the store is still open, and its routes registered.
 */
async function alarmsPlugin(app: FastifyInstance, opts: AlarmsPluginOptions): Promise<void> {
  const engine = createAlarmEngine({
    store: app.store,
    bus: app.bus,
    sendCommand: app.sendCommand,
    config: app.config.gaswatch,
    clock: app.clock,
    // buildServer hands Fastify a pino logger (loggerInstance), so its children are pino loggers.
    logger: app.log.child({ plugin: 'alarms' }) as unknown as Logger,
    metrics: app.metrics,
    devices: app.devices,
    ...(opts.timers === undefined ? {} : { timers: opts.timers }),
    ...(opts.channels === undefined ? {} : { channels: opts.channels }),
    ...(opts.offlineSweepMs === undefined ? {} : { offlineSweepMs: opts.offlineSweepMs }),
  });
  await engine.start();
  app.decorate('alarms', engine);
  app.addHook('preClose', async () => {
    await engine.stop();
  });
  await app.register(alarmRoutes, { engine });
}

export default fp(alarmsPlugin, {
  name: 'alarms',
  fastify: '5.x',
  decorators: { fastify: ['config', 'clock', 'bus', 'store', 'sendCommand', 'devices', 'metrics'] },
});
