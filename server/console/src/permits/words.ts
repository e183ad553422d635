import { i18n } from '../i18n';
import en from '../locales/en/permits';
import zhCN from '../locales/zh-CN/permits';

// The permit pages' own words (locales/*/permits.ts), added to the app's messages when the first
// permit page loads: they and shared/'s permit words stay out of the first load, which every duty
// room pays for. The shell's evacuation banner has its words in common.ts.
i18n.global.mergeLocaleMessage('zh-CN', { permits: zhCN } as never);
i18n.global.mergeLocaleMessage('en', { permits: en } as never);
