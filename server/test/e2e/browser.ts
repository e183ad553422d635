import { fileURLToPath } from 'node:url';
import { type DeviceEvent, type DeviceState, encodePayload, type Reading, topics } from '@gaswatch/shared';
import type { MqttClient } from 'mqtt';
import { type Browser, chromium } from 'playwright-core';

/** Where a screenshot goes: docs/img, whose pictures of the console these tests take. */
export const docImage = (name: string): string =>
  fileURLToPath(new URL(`../../../docs/img/${name}`, import.meta.url));

/** One way the docs show a console page: a language at a width, and the picture's file name. */
export type View = { locale: 'zh-CN' | 'en-US'; width: number; shot: string };

/** A page as the docs show it: in both languages at desk (1400 px) and phone (390 px) width. */
export function views(page: string): readonly [View, View, View, View] {
  return [
    { locale: 'zh-CN', width: 1400, shot: `${page}-zh-CN-desktop.png` },
    { locale: 'zh-CN', width: 390, shot: `${page}-zh-CN-phone.png` },
    { locale: 'en-US', width: 1400, shot: `${page}-en-desktop.png` },
    { locale: 'en-US', width: 390, shot: `${page}-en-phone.png` },
  ];
}

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
