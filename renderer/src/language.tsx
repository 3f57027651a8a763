/** Settings › Language: the window's language, switched at once and remembered (see i18n.ts). */
import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { chooseLanguage, LANGUAGES, type Language } from './i18n.js';

export function LanguagePanel() {
  const { t, i18n } = useTranslation();
  const selectId = useId();
  return (
    <section className="panel" aria-labelledby="language-title">
      <h2 id="language-title">{t('language.title')}</h2>
      <div className="inline-form">
        <label htmlFor={selectId}>{t('language.label')}</label>
        <select id={selectId} value={i18n.resolvedLanguage ?? i18n.language} onChange={(event) => void chooseLanguage(i18n, event.target.value as Language)} data-testid="language">
          {/* Each language by its own name, so it can be found by someone who cannot read the current one. */}
          {LANGUAGES.map((code) => (
            <option key={code} value={code} lang={code}>
              {i18n.getFixedT(code)('language.name')}
            </option>
          ))}
        </select>
      </div>
      <p className="muted">{t('language.help')}</p>
    </section>
  );
}
