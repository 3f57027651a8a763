/**
 * The desktop shell's words — tray tooltip and menu, notifications, the folder picker's title —
 * in the system's language, through i18next with the shell texts of app/locales/. A plain
 * function of a key, so tray-status.ts stays testable without Electron.
 */
import i18next from 'i18next';
import { LANGUAGES, pickLanguage, RESOURCES } from '../../app/locales/index.js';

/** A shell text by key, with i18next's interpolation and plurals (`count`). */
export type ShellText = (key: string, values?: Readonly<Record<string, unknown>>) => string;

/** The shell's texts for a locale as Electron reports it (app.getLocale(): 'zh-CN', 'en-US', …). */
export function createShellText(locale: string): ShellText {
  const instance = i18next.createInstance();
  void instance.init({
    resources: Object.fromEntries(LANGUAGES.map((code) => [code, { translation: RESOURCES[code].shell }])),
    lng: pickLanguage(undefined, [locale]),
    fallbackLng: 'en',
    keySeparator: false,
    nsSeparator: false,
    // Menus and notifications are plain text, not HTML.
    interpolation: { escapeValue: false },
    initAsync: false,
  });
  return (key, values) => instance.t(key, values as Record<string, unknown>);
}

/** English, for the tests and anything before the app knows its locale. */
export const ENGLISH_SHELL_TEXT: ShellText = createShellText('en');
