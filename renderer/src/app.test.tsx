import { renderToString } from 'react-dom/server';
import { describe, expect, it, vi } from 'vitest';
import { App } from './app.js';
import { selectTransport } from './transport.js';

describe('transport selection', () => {
  it('uses the preload bridge when Electron exposes one', async () => {
    const version = vi.fn(async () => ({ ok: true as const, value: '9.9.9' }));
    const transport = selectTransport({ cosync: { version } });
    expect(transport.kind).toBe('electron');
    expect(await transport.version()).toEqual({ ok: true, value: '9.9.9' });
  });

  it('says plainly that a plain browser is not connected', async () => {
    const transport = selectTransport({});
    expect(transport.kind).toBe('browser');
    expect(await transport.version()).toMatchObject({ ok: false, error: { message: /not connected/ } });
  });
});

describe('first screen', () => {
  it('tells a new user what to do first', () => {
    const html = renderToString(<App transport={selectTransport({})} />);
    expect(html).toContain('No sync folders yet');
    expect(html).toContain('cosync key generate');
    expect(html).toContain('Connecting to the engine');
  });
});
