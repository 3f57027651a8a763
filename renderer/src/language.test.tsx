// @vitest-environment jsdom
/** The window's language: picked from the browser's, switched under Settings at once, remembered. */
import { cleanup, configure, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { pickLanguage } from '../../app/locales/index.js';
import { App } from './app.js';
import { connectedTransport, folder } from './fake-transport.test-helper.mjs';
import { chooseLanguage, i18n } from './i18n.js';

configure({ asyncUtilTimeout: 5_000 });
afterEach(async () => {
  cleanup();
  await chooseLanguage(i18n, 'en');
  localStorage.clear();
});

describe('choosing the language', () => {
  it.each<[string | null, string[], string]>([
    [null, ['zh-CN', 'en'], 'zh-CN'],
    [null, ['zh-TW'], 'zh-CN'],
    [null, ['fr-FR', 'en-GB'], 'en'],
    [null, ['de'], 'en'],
    ['zh-CN', ['en-US'], 'zh-CN'],
    ['klingon', ['zh'], 'zh-CN'],
  ])('chosen %s, browser %j → %s', (chosen, preferred, expected) => {
    expect(pickLanguage(chosen, preferred)).toBe(expected);
  });

  it('switches the window to Chinese from Settings without a reload, and remembers it', async () => {
    render(<App transport={connectedTransport([folder({ id: 'f1', localPath: '/home/me/Photos' })])} initialView="settings" />);
    const select = await screen.findByRole('combobox', { name: 'Language of this window' });
    const before = screen.getByRole('heading', { name: 'Encryption keys (SSE-C)' });
    fireEvent.change(select, { target: { value: 'zh-CN' } });
    await waitFor(() => expect(screen.getByRole('tab', { name: '设置' }).getAttribute('aria-selected')).toBe('true'));
    // The same element, re-rendered in place: no reload, nothing typed is lost.
    expect(before.isConnected).toBe(true);
    expect(before.textContent).toBe('加密密钥（SSE-C）');
    expect(document.documentElement.lang).toBe('zh-CN');
    expect(localStorage.getItem('cosync.language')).toBe('zh-CN');
    expect(screen.getByRole('option', { name: 'English' })).toBeTruthy();
  });
});
