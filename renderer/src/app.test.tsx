/** The first screen and the transport choice, rendered to HTML in plain Node (no DOM needed). */
import { renderToString } from 'react-dom/server';
import { describe, expect, it, vi } from 'vitest';
import { App, EngineStatus } from './app.js';
import { notConnectedTransport, selectTransport } from './transport.js';

describe('transport selection', () => {
  it('uses the preload bridge when Electron exposes one', async () => {
    const version = vi.fn(async () => ({ ok: true as const, value: '9.9.9' }));
    const transport = selectTransport({ cosync: { version } });
    expect(transport.kind).toBe('electron');
    expect(await transport.version()).toEqual({ ok: true, value: '9.9.9' });
    expect(version).toHaveBeenCalledTimes(1);
  });

  it.each([
    ['no bridge', {}],
    ['a bridge without version()', { cosync: { version: '1.0' } }],
    ['a non-object bridge', { cosync: 'cosync' }],
    ['a null bridge', { cosync: null }],
  ])('says plainly that a plain browser is not connected (%s)', async (_name, host) => {
    const transport = selectTransport(host);
    expect(transport).toBe(notConnectedTransport);
    expect(transport.kind).toBe('browser');
    expect(await transport.version()).toMatchObject({ ok: false, error: { code: 'endpoint-unreachable', message: /Not connected/ } });
  });
});

describe('first screen', () => {
  const html = renderToString(<App transport={notConnectedTransport} />);

  it('names the app and says what it does', () => {
    expect(html).toContain('<h1 id="title">cosync</h1>');
    expect(html).toContain('Encrypted backup of your folders to Tencent COS and S3-compatible storage.');
  });

  it('tells a new user, honestly, what to do first', () => {
    expect(html).toContain('No sync folders yet');
    expect(html).toContain('it cannot do that yet');
    for (const command of ['cosync credentials set', 'cosync key generate photos', 'cosync key export photos', 'cosync backup ~/Photos', 'cosync restore']) {
      expect(html).toContain(command);
    }
  });

  it('labels its regions for assistive technology', () => {
    expect(html).toContain('<main class="app" aria-labelledby="title">');
    expect(html).toContain('aria-labelledby="first-steps"');
    expect(html).toMatch(/role="status" aria-live="polite" aria-label="Engine connection"/);
  });

  it('starts by checking the engine', () => {
    expect(html).toContain('Connecting to the engine');
  });
});

describe('engine status line', () => {
  it.each([
    [{ kind: 'checking' } as const, 'Connecting to the engine…'],
    [{ kind: 'connected', version: '0.1.0' } as const, 'Connected to engine <!-- -->0.1.0'],
    [{ kind: 'disconnected', reason: 'Not connected to a cosync engine.' } as const, 'Not connected to a cosync engine.'],
  ])('shows %o', (state, text) => {
    expect(renderToString(<EngineStatus state={state} />)).toContain(text);
  });
});
