import { type DeviceEvent, type DeviceState, encodePayload, type Reading, topics } from '@gaswatch/shared';
import type { MqttClient } from 'mqtt';
import { type Browser, chromium } from 'playwright-core';

/** Headless Chromium (Debian package `chromium`) for the console app tests. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** What a gateway publishes for a detector: its retained DeviceState. */
export function deviceState(over: Partial<DeviceState> = {}): DeviceState {
  return {
    v: 1,
    ts: new Date().toISOString(),
    online: true,
    model: 'gaswatch-co',
    kind: 'household-co',
    site: 'home',
    location: 'kitchen',
    lastError: null,
    pollIntervalS: 1,
    ...over,
  };
}

export async function publishState(
  c: MqttClient,
  gw: string,
  dev: string,
  state: DeviceState,
): Promise<void> {
  await c.publishAsync(topics.state(gw, dev), encodePayload('state', state), { qos: 1, retain: true });
}

export async function publishEvent(
  c: MqttClient,
  gw: string,
  dev: string,
  event: DeviceEvent,
): Promise<void> {
  await c.publishAsync(topics.event(gw, dev), encodePayload('event', event), { qos: 1 });
}

export async function publish(c: MqttClient, gw: string, dev: string, r: Reading): Promise<void> {
  await c.publishAsync(topics.reading(gw, dev), encodePayload('reading', r), { qos: 1 });
}
