import { useI18n } from 'vue-i18n';
import type { Alarm } from '../api/types';
import { fmtNum } from '../format';
import { useCatalogue } from './useCatalogue';

/** How an alarm reads to a person: its headline, reading and set point, in the page's language. */
export function useAlarmText() {
  const { t, te } = useI18n();
  const { catalogue, unitOf } = useCatalogue();

  const gasName = (gas: string) =>
    te(`gases.${gas}`) ? t(`gases.${gas}`) : (catalogue.value?.gases[gas as 'CO']?.name ?? gas);
  const headline = (a: Pick<Alarm, 'key' | 'gas'>) =>
    a.key.startsWith('fault-burst:')
      ? t('alarms.fold.faultHeadline')
      : a.key === 'gateway-offline'
        ? t('alarms.fold.gatewayHeadline')
        : a.key === 'area-offline'
          ? t('alarms.fold.areaHeadline')
          : a.key === 'offline'
            ? t('alarms.offline')
            : a.key === 'maintenance'
              ? t('alarms.bumpFailed')
              : a.gas !== undefined
                ? t('alarms.headline', { gas: gasName(a.gas) })
                : t('alarms.detector');
  const unit = (a: Alarm) => a.unit ?? unitOf(a.gas);
  const value = (a: Alarm) => t('alarms.value', { value: fmtNum(a.peak ?? a.value), unit: unit(a) });
  const threshold = (a: Alarm) => t('alarms.threshold', { value: fmtNum(a.threshold), unit: unit(a) });
  const measured = (a: Alarm) => a.key !== 'offline' && a.gas !== undefined;

  /** The browser notification's words. */
  const notification = (a: Alarm) => ({
    title: t('alarms.notify.title', { severity: t(`alarms.severity.${a.severity}`), headline: headline(a) }),
    body: measured(a)
      ? t('alarms.notify.body', {
          device: a.dev,
          site: a.household?.address ?? a.site ?? a.gw,
          value: value(a),
          threshold: threshold(a),
        })
      : `${a.dev} (${a.household?.address ?? a.site ?? a.gw})`,
  });
  /** What a folded alarm stands for: "3 号网关下 500 台探测器全部失联…", or a fault burst's count and code. */
  const foldLine = (f: NonNullable<Alarm['fold']>): string => {
    if (f.fault !== undefined)
      return f.scope === 'gateway'
        ? t('alarms.fold.faultGateway', { n: f.count, code: f.fault })
        : t('alarms.fold.faultArea', { n: f.count, g: f.gateways.length, code: f.fault });
    return f.scope === 'gateway'
      ? t('alarms.fold.gateway', { n: f.count })
      : t('alarms.fold.areaLine', { n: f.count, g: f.gateways.length });
  };
  /** The devices it names (the first `max`). */
  const foldList = (f: NonNullable<Alarm['fold']>, max = f.devices.length): string =>
    t(f.fault !== undefined ? 'alarms.fold.faultList' : 'alarms.fold.list', {
      list: f.devices.slice(0, max).join(t('alarms.fold.sep')),
    });

  return { headline, value, threshold, measured, notification, gasName, foldLine, foldList };
}
