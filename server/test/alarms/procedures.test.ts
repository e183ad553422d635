import { describe, expect, it } from 'vitest';
import { GaswatchConfigSchema } from '../../src/alarms/config-schema.js';
import { procedureFor } from '../../src/alarms/procedures.js';

const config = (raw: unknown = {}) =>
  GaswatchConfigSchema.parse({
    sites: { 'flat-7': { type: 'household' }, 'tank-3': { type: 'workplace' } },
    ...(raw as object),
  });
const co = { key: 'CO:dose', rule: 'en50291-slow', gas: 'CO', severity: 'critical' } as const;

describe('response procedures (SPEC §13)', () => {
  it('a CO alarm in a home gets the household steps; in a tank, the confined-space ones', () => {
    expect(procedureFor({ ...co, site: 'flat-7' }, config())?.text['zh-CN']).toMatch(/开窗通风.*120/s);
    expect(procedureFor({ ...co, site: 'tank-3' }, config())?.text['zh-CN']).toMatch(/撤离受限空间/);
    expect(
      procedureFor(
        { key: 'CH4:low', rule: 'gbt50493', gas: 'CH4', severity: 'warning', site: null },
        config(),
      )?.text.en,
    ).toMatch(/shut-off valve/);
    expect(
      procedureFor({ key: 'offline', rule: 'offline', severity: 'warning', site: 'flat-7' }, config())?.kind,
    ).toBe('offline');
  });

  it("a site's own procedure wins over the built-in one, the more specific over the less", () => {
    const own = config({
      procedures: [
        { kind: 'gas', gases: ['CO'], text: { 'zh-CN': '通用一氧化碳流程', en: 'any CO' } },
        {
          kind: 'gas',
          gases: ['CO'],
          severity: 'critical',
          siteType: 'household',
          text: { 'zh-CN': '本乡镇紧急流程', en: 'our critical CO' },
        },
      ],
    });
    expect(procedureFor({ ...co, site: 'flat-7' }, own)?.text.en).toBe('our critical CO');
    expect(procedureFor({ ...co, severity: 'warning', site: 'flat-7' }, own)?.text.en).toMatch(
      /household now/,
    );
    expect(procedureFor({ ...co, site: 'tank-3' }, own)?.text.en).toBe('any CO');
  });

  it('a procedure without both languages, or of an unknown kind, is refused at start', () => {
    const bad = GaswatchConfigSchema.safeParse({
      procedures: [
        { kind: 'gas', text: { 'zh-CN': '只有中文' } },
        { kind: 'smoke', text: { 'zh-CN': 'x', en: 'x' } },
      ],
    });
    expect(bad.success).toBe(false);
    const paths = bad.error?.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['procedures.0.text.en', 'procedures.1.kind']));
  });
});
