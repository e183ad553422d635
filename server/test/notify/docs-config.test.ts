/**
 * The chains docs/notifications.md shows parse as written, with the channels its provider
 * sections configure, and resolve to the contacts the text says.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createChainResolver } from '../../src/alarms/chain.js';
import { GaswatchConfigSchema } from '../../src/alarms/config-schema.js';
import type { Alarm } from '../../src/alarms/model.js';
import { AREAS, HOME } from './chain-rig.js';

const doc = readFileSync(new URL('../../../docs/notifications.md', import.meta.url), 'utf8');
const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map(
  (m) => parse(m[1] ?? '') as Record<string, unknown>,
);

describe('the chains of docs/notifications.md', () => {
  it('parse with the channels of its provider sections, and a household alarm climbs as the text says', () => {
    const channels = Object.assign({}, ...blocks.filter((b) => 'channels' in b).map((b) => b.channels));
    const chains = blocks.filter((b) => 'notify' in b || 'sites' in b);
    expect(chains).toHaveLength(2);
    const config = GaswatchConfigSchema.parse(Object.assign({ channels }, ...chains));
    const alarm = { id: 'a', dev: 'bedroom-co', site: 'x', gw: 'gw' } as Alarm;
    const chain = createChainResolver({ config, homeOf: () => HOME, areas: AREAS }).chainOf(alarm);
    expect(
      chain.steps.map((s) => s.contacts.map((c) => `${c.name} ${c.to} ${c.channels.join('>')}`)),
    ).toEqual([
      ['王秀英 +8613800000001 sms-aliyun', '王建军 +8613800000011 sms-aliyun'],
      ['王秀英 +8613800000001 call-tencent', '王建军 +8613800000011 call-tencent'],
      ['韦小明 +8613800000021 sms-aliyun>call-tencent', '柳江村委会值班 +867721234567 call-tencent'],
      ['大埔镇应急值班室 +8613900000000 call-tencent>sms-aliyun'],
    ]);
    expect(chain.repeatS).toBe('wait');
    const site = createChainResolver({ config, areas: AREAS }).chainOf({ ...alarm, site: 'boiler-house' });
    expect([site.steps.length, site.repeatS, site.steps[2]?.waitS]).toEqual([3, 300, 300]);
  });
});
