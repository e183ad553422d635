import type { Logger } from 'pino';
import { z } from 'zod';
import type { ProviderAdapter, ProviderMessage } from '../provider.js';
import { silentLogger } from './adapter-kit.js';

/**
 * A channel that sends nothing out: each message is written to the server's log and recorded as
 * delivered, so it shows on the alarm's card like any other notification. For trying the chain
 * out (the one-box demo, `npm start`) and for a site that has no provider yet but wants to see
 * who would have been told what. Nobody is reached by it: never the only channel of a real chain.
 */
export const LogChannelSchema = z
  .object({
    type: z.literal('log'),
    medium: z
      .enum(['sms', 'voice', 'email', 'chat'])
      .default('sms')
      .describe('What it stands in for: the messages are written as this medium writes them'),
  })
  .strict();
export type LogChannelConfig = z.infer<typeof LogChannelSchema>;

export function createLogAdapter(
  config: LogChannelConfig,
  deps: { name?: string; logger?: Logger; clock?: () => number } = {},
): ProviderAdapter {
  const name = deps.name ?? 'log';
  const log = (deps.logger ?? silentLogger).child({ channel: name, type: 'log' });
  let n = 0;
  return {
    name,
    type: 'log',
    medium: config.medium,
    async send(message: ProviderMessage) {
      n += 1;
      log.info(
        { notification: message.id, to: message.to, medium: config.medium, text: message.text },
        'notification (log channel: written here, not sent)',
      );
      return { providerId: `log-${n}`, delivered: true };
    },
  };
}
