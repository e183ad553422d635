import {
  gasCheckText,
  PERMIT_WORDS,
  type PermitLocale,
  permitGasName,
  permitRefusalText,
} from '@gaswatch/shared/permit-words';
import { computed } from 'vue';
import { useI18n } from 'vue-i18n';
import type { GasCheck, GasIdentity, Permit, Refusal } from '../api/types';
import { fmtTime } from '../format';

/**
 * The words of permits in the page's language: shared/'s PERMIT_WORDS (every id: states, actions,
 * positions, kinds, levels…) and its templates for the reasons and refusals the server gives by
 * code — the one copy the server's records, the PDF and the console all say.
 */
export function usePermitWords() {
  const { locale } = useI18n();
  const lang = computed<PermitLocale>(() => (locale.value === 'zh-CN' ? 'zh-CN' : 'en'));
  const w = computed(() => PERMIT_WORDS[lang.value]);

  /** A refusal of the API (`actions[].refusals`) in words; a time among its params in local time. */
  function refusal(r: Pick<Refusal, 'code' | 'params'>): string {
    const params = { ...r.params };
    for (const [k, v] of Object.entries(params))
      if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v))
        params[k] = fmtTime(Date.parse(v), locale.value);
    return permitRefusalText(lang.value, { code: r.code, params });
  }
  /** Why a judged check failed ("氧含量 17.2%，低于 19.5%"), null when it passed. */
  const check = (c: GasCheck | Record<string, unknown>) => gasCheckText(lang.value, c as GasCheck);
  const gas = (g: GasIdentity) => permitGasName(lang.value, g);
  /** 受限空间作业, or the hot-work level: 一级动火. */
  const kindOf = (p: Pick<Permit, 'kind' | 'level'>) =>
    p.level === null ? w.value.kinds[p.kind] : w.value.levels[p.level];
  /** Why work stopped by the server's hand (检测仪报警), or the words of the reason as given. */
  const suspension = (reason: string) => (w.value.suspensions as Record<string, string>)[reason] ?? reason;
  return { lang, w, refusal, check, gas, kindOf, suspension };
}
