/**
 * The Chinese cloud channels in GASWATCH_CONFIG: the examples docs/notifications.md shows parse
 * as written (defaults filled in), and a broken channel is refused with every problem's path.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { GaswatchConfigSchema } from '../../src/alarms/config-schema.js';
import { ChannelConfigSchema } from '../../src/notify/channel-config.js';

const doc = readFileSync(new URL('../../../docs/notifications.md', import.meta.url), 'utf8');
/** The YAML examples of this provider family in the document. */
const examples = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)]
  .map((m) => m[1] ?? '')
  .filter((y) => /type: (aliyun|tencent)-/.test(y));

describe('Alibaba and Tencent channels in the configuration', () => {
  it('accepts every example of docs/notifications.md and fills in the defaults', () => {
    expect(examples).toHaveLength(4);
    const channels = Object.assign({}, ...examples.map((y) => (parse(y) as { channels: object }).channels));
    // As channels (GASWATCH_CONFIG refuses them until escalation sends through them, issue 15).
    const cfg = { channels: z.record(z.string(), ChannelConfigSchema).parse(channels) };
    expect(cfg.channels['sms-aliyun']).toMatchObject({
      type: 'aliyun-sms',
      endpoint: 'https://dysmsapi.aliyuncs.com/',
      timeoutMs: 5000,
      retries: 2,
      backoffMs: 1000,
    });
    expect(cfg.channels['call-aliyun']).toMatchObject({ type: 'aliyun-voice', playTimes: 3 });
    expect(cfg.channels['sms-tencent']).toMatchObject({
      type: 'tencent-sms',
      region: 'ap-guangzhou',
      endpoint: 'https://sms.tencentcloudapi.com/',
    });
    expect(cfg.channels['call-tencent']).toMatchObject({
      type: 'tencent-voice',
      endpoint: 'https://vms.tencentcloudapi.com/',
      playTimes: 3,
    });
  });

  it('lists every problem of a broken channel with its path', () => {
    const r = GaswatchConfigSchema.safeParse({
      channels: {
        a: {
          type: 'aliyun-sms',
          accessKeyId: 'k',
          accessKeySecret: 's',
          templates: { 'zh-CN': { code: 'SMS_1' } },
        },
        b: {
          type: 'tencent-voice',
          secretId: 'i',
          secretKey: 'k',
          voiceSdkAppid: 'app',
          templates: { 'zh-CN': { id: '1', params: [] } },
          playTimes: 5,
          callbackToken: 'short',
          color: 'red',
        },
      },
    });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.'))).toEqual(
      expect.arrayContaining([
        'channels.a.signName',
        'channels.a.templates.zh-CN.params',
        'channels.b.voiceSdkAppid',
        'channels.b.playTimes',
        'channels.b.callbackToken',
        'channels.b',
      ]),
    );
  });
});
