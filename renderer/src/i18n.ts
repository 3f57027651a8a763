/**
 * The window's language: i18next with the resources in app/locales/, Simplified Chinese or
 * English (more are one resource file each). It follows the browser's languages — inside
 * Electron, Chromium takes them from the OS — until the user picks one under Settings; that
 * choice is remembered in this window's localStorage and applied without a reload.
 *
 * Why localStorage and not the engine's config: the language belongs to whoever looks at this
 * window (a desktop user, or someone in a browser against a headless daemon on another machine),
 * not to the engine, and the contract has no channel for window preferences. Chromium keeps
 * localStorage per origin in its profile (Electron's userData for the desktop app).
 */
import i18next, { type i18n as I18n } from 'i18next';
import { useMemo } from 'react';
import { initReactI18next, useTranslation } from 'react-i18next';
import { createFormatter, type Formatter } from '../../app/format.js';
import { LANGUAGES, pickLanguage, RESOURCES, type Language } from '../../app/locales/index.js';

export { LANGUAGES, type Language };

const STORAGE_KEY = 'cosync.language';

function storage(): Storage | undefined {
  try {
    return typeof localStorage === 'undefined' ? undefined : localStorage;
  } catch {
    // A sandboxed or opaque origin throws on access: the choice then lasts this session only.
    return undefined;
  }
}

function initialLanguage(): Language {
  const languages = typeof navigator === 'undefined' ? [] : navigator.languages.length > 0 ? navigator.languages : [navigator.language];
  return pickLanguage(storage()?.getItem(STORAGE_KEY) ?? null, languages);
}

/** A ready i18next instance (resources are bundled, so it initializes synchronously). */
export function createI18n(language: Language = initialLanguage()): I18n {
  const instance = i18next.createInstance();
  void instance.use(initReactI18next).init({
    resources: Object.fromEntries(LANGUAGES.map((code) => [code, { translation: RESOURCES[code].window }])),
    lng: language,
    fallbackLng: 'en',
    supportedLngs: LANGUAGES,
    // Keys are flat ("settings.keys.title"), kept in one table per language.
    keySeparator: false,
    nsSeparator: false,
    // React escapes text itself.
    interpolation: { escapeValue: false },
    initAsync: false,
    returnNull: false,
  });
  // The page's lang follows, so screen readers pronounce it right (and axe checks html[lang]).
  const setPageLanguage = (code: string): void => {
    if (typeof document !== 'undefined') document.documentElement.lang = code;
  };
  setPageLanguage(language);
  instance.on('languageChanged', setPageLanguage);
  return instance;
}

/** Switches the window to a language at once, and remembers it for the next start. */
export async function chooseLanguage(instance: I18n, language: Language): Promise<void> {
  storage()?.setItem(STORAGE_KEY, language);
  await instance.changeLanguage(language);
}

/** The window's i18next instance. */
export const i18n = createI18n();

/** The formats of the window's current language (re-made when it changes). */
export function useFormat(): Formatter {
  const { i18n: current } = useTranslation();
  return useMemo(() => createFormatter(current.language), [current.language]);
}
