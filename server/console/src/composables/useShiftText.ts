import { useI18n } from 'vue-i18n';
import { ApiError } from '../api/client';
import { fmtMinute, spanParts } from '../format';
import { useSession } from './useSession';

/** How shift reports read: spans of time, who, when, in the page's language. */
export function useShiftText() {
  const { t, te, locale } = useI18n();
  const { who } = useSession();

  /** Seconds as a person says them (45 秒, 3 分 20 秒); a dash for none. */
  const span = (seconds: number | null): string => {
    if (seconds === null) return t('shifts.times.none');
    const p = spanParts(seconds);
    return t(`shifts.span.${p.key}`, { d: p.d, h: p.h, m: p.m, s: p.s });
  };
  /** A record names a username (or token id): this login's own shows as its display name. */
  const actorName = (actor: string): string =>
    who.value !== null && who.value.user.username === actor ? who.value.user.displayName : actor;
  /** An ISO time or ms, to the minute. */
  const at = (time: string | number): string =>
    fmtMinute(typeof time === 'number' ? time : Date.parse(time), locale.value);
  const shiftSpan = (from: string, to: string): string =>
    t('shifts.report.span', { from: at(from), to: at(to) });
  /**
   * What went wrong, in words: the server's code where the locale has words for it (409
   * own_handover…), a 403 as the role's, else `failedKey` with the message.
   */
  const errorText = (err: unknown, failedKey: string, forbiddenKey?: string): string => {
    if (err instanceof ApiError) {
      if (err.status === 403 && forbiddenKey !== undefined)
        return t(forbiddenKey, { role: t(`roles.${who.value?.user.role ?? 'viewer'}`) });
      if (err.code !== undefined && te(`shifts.errors.${err.code}`)) return t(`shifts.errors.${err.code}`);
    }
    return t(failedKey, { why: err instanceof Error ? err.message : String(err) });
  };
  return { span, actorName, at, shiftSpan, errorText };
}
