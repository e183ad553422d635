import { createI18n } from 'vue-i18n';
import en from './locales/en/index';
import zhCN from './locales/zh-CN/index';

export const LOCALES = ['zh-CN', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
const KEY = 'gaswatch.locale';

/** The language chosen with the header's switch, else zh-CN when the browser prefers Chinese. */
function initialLocale(): Locale {
  try {
    const saved = localStorage.getItem(KEY);
    if (saved === 'zh-CN' || saved === 'en') return saved;
  } catch {
    // Private mode: no memory, the browser's language decides.
  }
  return /^zh\b/i.test(navigator.languages?.[0] ?? navigator.language ?? '') ? 'zh-CN' : 'en';
}

export const i18n = createI18n({
  legacy: false,
  locale: initialLocale(),
  fallbackLocale: 'en',
  messages: { 'zh-CN': zhCN, en },
});

export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale;
  document.documentElement.lang = locale;
  try {
    localStorage.setItem(KEY, locale);
  } catch {
    // Private mode: the choice lasts for this page only.
  }
}
