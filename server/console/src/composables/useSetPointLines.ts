import { computed } from 'vue';
import { useI18n } from 'vue-i18n';
import type { SetPoint } from '../api/types';
import { durationParts, fmtNum } from '../format';
import type { ChartLine } from '../readings';

const OP: Record<SetPoint['op'], string> = { '>=': '≥', '>': '>', '<': '<', '<=': '≤' };
const SEVERITY_COLOUR: Record<SetPoint['severity'], string> = { critical: '#c62828', warning: '#d97800' };

/** A readings chart's words: set points as lines labelled as a duty officer reads them, the legend. */
export function useSetPointLines() {
  const { t } = useI18n();

  function durationWords(ms: number): string {
    const [unit, n] = durationParts(ms);
    return t(`devices.page.every.${unit}`, { n });
  }

  /** A gas's set points as lines on its chart. */
  function linesOf(setPoints: readonly SetPoint[], gas: string): ChartLine[] {
    return setPoints
      .filter((s) => s.gas === gas)
      .map((s) => {
        const args = {
          severity: t(`alarms.severity.${s.severity}`),
          op: OP[s.op],
          value: fmtNum(s.value),
          window: s.windowMs === undefined ? '' : durationWords(s.windowMs),
        };
        return {
          value: s.value,
          label: `${t(`devices.page.setPoint.${s.kind}`, args)} ${s.unit}`,
          color: SEVERITY_COLOUR[s.severity],
          dashed: s.kind !== 'level',
        };
      });
  }

  const legend = computed(() => ({
    time: t('devices.page.legend.time'),
    mean: t('devices.page.legend.mean'),
    min: t('devices.page.legend.min'),
    max: t('devices.page.legend.max'),
  }));

  return { linesOf, legend, durationWords };
}
