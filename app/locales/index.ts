/**
 * The languages cosync speaks and their texts, for the window (renderer/src/i18n.ts) and the
 * desktop shell's tray, menu and notifications (main/electron/shell-text.ts), both through
 * i18next. A new language is one more file beside these and one entry below.
 */
import { EN } from './en.js';
import { ZH_CN } from './zh-CN.js';

/** One language's texts: the window's and the desktop shell's, each a flat key → text table. */
export interface LocaleResources {
  readonly window: Readonly<Record<string, string>>;
  readonly shell: Readonly<Record<string, string>>;
}

/** The languages, as BCP 47 tags; the first is the fallback. */
export const LANGUAGES = ['en', 'zh-CN'] as const;
export type Language = (typeof LANGUAGES)[number];

export const RESOURCES: Readonly<Record<Language, LocaleResources>> = { en: EN, 'zh-CN': ZH_CN };

/** The language to show: one chosen before (if we have it), else the first preferred one we have, else English. */
export function pickLanguage(chosen: string | null | undefined, preferred: ReadonlyArray<string>): Language {
  if (chosen !== null && chosen !== undefined && (LANGUAGES as ReadonlyArray<string>).includes(chosen)) return chosen as Language;
  for (const tag of preferred) {
    const lower = tag.toLowerCase();
    // Every Chinese variant reads Simplified Chinese better than English; there is no Traditional yet.
    if (lower === 'zh' || lower.startsWith('zh-') || lower.startsWith('zh_')) return 'zh-CN';
    if (lower === 'en' || lower.startsWith('en-') || lower.startsWith('en_')) return 'en';
  }
  return 'en';
}
