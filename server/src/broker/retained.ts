import type { AedesMemoryPersistence, Packet } from 'aedes-persistence';
import * as aedesPersistence from 'aedes-persistence';

// A CommonJS module (`module.exports = factory`) whose types declare an ES default export: the
// factory is the namespace's `default` at run time, which the types do not say.
const memoryPersistence = (aedesPersistence as unknown as { default: () => AedesMemoryPersistence }).default;

/**
 * The embedded broker's persistence (aedes' in-memory one), keeping a retained message only on a
 * topic that someone may ever receive it on.
 *
 * On the embedded broker only gateways subscribe, and only to their own command topic and the
 * time beacon (gateway-access.ts: everything else is refused at SUBSCRIBE and again at forward).
 * The retained DeviceStates and statuses the gateways publish are taken in by ingest as they
 * arrive and can never be delivered to anyone, yet aedes kept one per device: the packet, its
 * topic, a Buffer and the 64 KB socket chunk that Buffer is a view of, shared with whatever else
 * arrived in it — ~300 bytes a device, 300 MB for a million (issue 18). A retained message on a
 * topic nobody may subscribe to is not stored.
 */
export function retainedWhereDeliverable(
  maySubscribe: (topic: string) => boolean,
  persistence: AedesMemoryPersistence = memoryPersistence(),
): AedesMemoryPersistence {
  const store = persistence.storeRetained.bind(persistence);
  // aedes calls the promise form (no callback); the callback form is the persistence's contract too.
  persistence.storeRetained = ((packet: Packet & { topic: string }, cb?: (err?: Error | null) => void) => {
    if (maySubscribe(packet.topic)) return store(packet, cb as never);
    if (cb) {
      process.nextTick(cb, null);
      return undefined;
    }
    return Promise.resolve();
  }) as AedesMemoryPersistence['storeRetained'];
  return persistence;
}
