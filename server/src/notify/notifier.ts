import type { Logger } from 'pino';
import { ConfigError } from '../errors.js';
import type { Timers } from '../timers.js';
import type { Notification, NotificationChannel } from './channel.js';
import type { ChannelConfig } from './channel-config.js';
import { createWebhookChannel } from './webhook.js';

export interface NotifierHooks {
  sent?(channel: string): void;
  failed?(channel: string): void;
  retried?(channel: string): void;
}

/** Builds every configured channel from GASWATCH_CONFIG `channels`. */
export function createChannels(
  configs: Record<string, ChannelConfig>,
  deps: { logger: Logger; timers?: Timers; hooks?: NotifierHooks },
): Map<string, NotificationChannel> {
  const out = new Map<string, NotificationChannel>();
  for (const [name, config] of Object.entries(configs)) {
    switch (config.type) {
      case 'webhook':
        out.set(
          name,
          createWebhookChannel({
            name,
            config,
            logger: deps.logger,
            timers: deps.timers,
            onRetry: () => deps.hooks?.retried?.(name),
          }),
        );
        break;
      default:
        // The provider adapters (providers/) exist and their settings are checked, but the chain
        // that renders and records their messages does not yet: a channel that would send
        // nothing must stop the server, not stay silent while an alarm waits on it.
        throw new ConfigError([
          `channels.${name}: type ${config.type} is not connected to escalation yet (issue 15): use a webhook channel for now`,
        ]);
    }
  }
  return out;
}

export interface Notifier {
  /** Starts delivery in the background; never throws, never blocks the caller. */
  notify(channel: string, n: Notification): void;
  /** Resolves when every delivery started so far has finished (delivered or failed). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export function createNotifier(deps: {
  channels: Map<string, NotificationChannel>;
  logger: Logger;
  hooks?: NotifierHooks;
}): Notifier {
  const log = deps.logger.child({ part: 'notifier' });
  const inFlight = new Set<Promise<void>>();
  return {
    notify(channelName, n) {
      const channel = deps.channels.get(channelName);
      if (channel === undefined) {
        log.error(
          { channel: channelName, notification: n.id },
          'notification for an unknown channel dropped',
        );
        deps.hooks?.failed?.(channelName);
        return;
      }
      const p = channel
        .send(n)
        .then(
          () => {
            deps.hooks?.sent?.(channelName);
            log.info(
              { channel: channelName, notification: n.id, alarmId: n.alarmId, tier: n.tier },
              'notified',
            );
          },
          (err: unknown) => {
            deps.hooks?.failed?.(channelName);
            log.error(
              { err, channel: channelName, notification: n.id, alarmId: n.alarmId },
              'notification failed',
            );
          },
        )
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    },
    async idle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    async stop() {
      await Promise.allSettled([...deps.channels.values()].map((c) => c.stop?.()));
      await Promise.allSettled([...inFlight]);
    },
  };
}
