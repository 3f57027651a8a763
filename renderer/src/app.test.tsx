// @vitest-environment jsdom
/** The app shell against a fake engine: connection state, first steps, tabs, header controls. */
import { act, cleanup, configure, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { StrictMode } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { App, EngineStatus, isView } from './app.js';
import { connectedTransport, counts, FakeTransport, failure, folder, ok, overview, status } from './fake-transport.test-helper.mjs';
import { notConnectedTransport } from './transport.js';

// Answers arrive asynchronously; a busy machine may need more than the 1 s default to show them.
configure({ asyncUtilTimeout: 5_000 });
afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

const engineLine = () => screen.getByRole('status', { name: 'Engine connection' });
const tab = (name: string) => screen.getByRole('tab', { name: new RegExp(`^${name}`) });
const panel = () => screen.getByRole('tabpanel');

/** Renders the app and waits until it is connected. */
async function renderConnected(transport: FakeTransport, initialView?: Parameters<typeof App>[0]['initialView']) {
  render(<App transport={transport} {...(initialView !== undefined ? { initialView } : {})} />);
  await waitFor(() => expect(engineLine().textContent).toBe('Connected to engine 1.2.3'));
}

const photos = folder({ id: 'f1', localPath: '/home/me/Photos', counts: counts({ synced: 3, error: 1 }) });

describe('connection', () => {
  it('shows the engine’s message when the overview fails, and no views', async () => {
    const transport = new FakeTransport({ 'sync:overview': () => failure('The engine refused the access token. Open the URL that `cosync serve` printed in this run.', 'access-denied') });
    render(<App transport={transport} />);
    expect(engineLine().textContent).toBe('Connecting to the engine…');
    await waitFor(() => expect(engineLine().textContent).toMatch(/^The engine refused the access token/));
    expect(screen.queryByRole('tablist')).toBeNull();
    expect(screen.queryByText('No sync folders yet')).toBeNull();
  });

  it('says how to connect when there is no engine at all', async () => {
    render(<App transport={notConnectedTransport} />);
    await waitFor(() => expect(engineLine().textContent).toMatch(/^Not connected to a cosync engine/));
  });

  it('connects once under StrictMode (as main.tsx renders it): one event subscription', async () => {
    const transport = connectedTransport([photos]);
    render(
      <StrictMode>
        <App transport={transport} />
      </StrictMode>,
    );
    await waitFor(() => expect(engineLine().textContent).toBe('Connected to engine 1.2.3'));
    expect(transport.listeners.size).toBe(1);
    act(() => transport.emit({ type: 'overview', overview: overview([{ ...photos, activity: 'paused' }]) }));
    await waitFor(() => expect(screen.getByTestId('folder-activity').textContent).toBe('Paused'));
  });

  it('subscribes to engine events and unsubscribes when it goes away', async () => {
    const transport = connectedTransport([]);
    await renderConnected(transport);
    expect(transport.listeners.size).toBe(1);
    cleanup();
    expect(transport.listeners.size).toBe(0);
  });
});

describe('first steps', () => {
  it('shows the empty state with the first-run flow, and a button that opens Settings', async () => {
    const transport = connectedTransport([]);
    await renderConnected(transport);
    expect(screen.getByRole('heading', { name: 'No sync folders yet' })).toBeTruthy();
    expect(screen.getByRole('heading', { name: 'Where are your files to go?' })).toBeTruthy();
    expect(screen.getByText(/cosync credentials set --secret-id/)).toBeTruthy();
    expect(tab('Folders').getAttribute('aria-selected')).toBe('true');

    fireEvent.click(screen.getByRole('button', { name: 'Add a sync folder' }));

    expect(tab('Settings').getAttribute('aria-selected')).toBe('true');
    expect(tab('Folders').getAttribute('aria-selected')).toBe('false');
    expect(screen.queryByText('No sync folders yet')).toBeNull();
    expect(within(panel()).getByRole('heading', { name: 'Add a sync folder' })).toBeTruthy();
    expect(within(panel()).getByLabelText('Local folder')).toBeTruthy();
  });
});

describe('views', () => {
  it('switches views with the tabs', async () => {
    const transport = connectedTransport([photos]);
    transport.on('sync:files', () => ok([status('f1', 'a.jpg', 'synced'), status('f1', 'b.jpg', 'error')]));
    transport.on('sync:list-remote', () => ok([{ path: 'remote.jpg', kind: 'file', sizeBytes: 1 }]));
    await renderConnected(transport);
    expect(within(panel()).getByRole('heading', { name: '/home/me/Photos' })).toBeTruthy();

    fireEvent.click(tab('Files'));
    expect(screen.getByRole('tabpanel', { name: 'Files' })).toBe(panel());
    expect(await within(panel()).findByText('b.jpg')).toBeTruthy();
    expect(transport.requests('sync:files')).toEqual([{ folderId: 'f1' }]);

    fireEvent.click(tab('Restore'));
    expect(await within(panel()).findByText('remote.jpg')).toBeTruthy();
    expect(screen.queryByRole('grid')).toBeNull();

    fireEvent.click(tab('Backup'));
    expect(within(panel()).getByTestId('drop-zone')).toBeTruthy();

    fireEvent.click(tab('Settings'));
    expect(within(panel()).getByRole('heading', { name: 'Encryption keys (SSE-C)' })).toBeTruthy();

    fireEvent.click(tab('Activity'));
    expect(within(panel()).getByRole('heading', { name: 'Errors and warnings' })).toBeTruthy();
    expect(tab('Activity').getAttribute('aria-selected')).toBe('true');
    expect(screen.getAllByRole('tab', { selected: true })).toHaveLength(1);

    fireEvent.click(tab('Folders'));
    expect(within(panel()).getByRole('heading', { name: '/home/me/Photos' })).toBeTruthy();
  });

  it('opens the view it is asked to', async () => {
    await renderConnected(connectedTransport([photos]), 'backup');
    expect(tab('Backup').getAttribute('aria-selected')).toBe('true');
    expect(screen.getByTestId('drop-zone')).toBeTruthy();
    expect(isView('backup')).toBe(true);
    expect(isView('nonsense')).toBe(false);
  });

  it('a folder card’s “Show files” opens that folder’s files', async () => {
    const work = folder({ id: 'f2', localPath: '/home/me/Work', counts: counts({ synced: 2 }) });
    const transport = connectedTransport([photos, work]);
    transport.on('sync:files', (request) => ok([status(request.folderId, `${request.folderId}-only.txt`, 'synced')]));
    await renderConnected(transport);
    const card = screen.getByRole('article', { name: '/home/me/Work' });
    fireEvent.click(within(card).getByRole('button', { name: 'Show 2 files' }));
    expect(tab('Files').getAttribute('aria-selected')).toBe('true');
    expect(await screen.findByText('f2-only.txt')).toBeTruthy();
    expect((screen.getByRole('combobox', { name: 'Folder' }) as HTMLSelectElement).value).toBe('f2');
  });

  it('marks the Activity tab when a folder has errors', async () => {
    await renderConnected(connectedTransport([photos]));
    // Told in words (for screen readers) and by a shape, not by colour alone.
    expect(within(tab('Activity')).getByText('(errors)')).toBeTruthy();
    cleanup();
    await renderConnected(connectedTransport([folder({ id: 'ok' })]));
    expect(within(tab('Activity')).queryByText('(errors)')).toBeNull();
  });

  it('follows overview events from the engine', async () => {
    const transport = connectedTransport([photos]);
    await renderConnected(transport);
    const card = screen.getByRole('article', { name: '/home/me/Photos' });
    expect(within(card).getByTestId('folder-activity').textContent).toBe('Up to date');
    act(() => transport.emit({ type: 'overview', overview: overview([{ ...photos, activity: 'syncing', counts: counts({ synced: 7 }) }]) }));
    await waitFor(() => expect(within(card).getByTestId('folder-activity').textContent).toBe('Syncing'));
    expect(within(card).getByTestId('count-synced').textContent).toBe('7');
  });
});

describe('header controls and notices', () => {
  it('Pause all pauses everything and refreshes the overview', async () => {
    const transport = connectedTransport([photos]);
    transport.on('sync:set-paused', (request) => {
      transport.on('sync:overview', () => ok(overview([photos], { paused: request.paused })));
      return ok(null);
    });
    await renderConnected(transport);
    const button = screen.getByTestId('pause-all');
    expect(button.textContent).toBe('Pause all');
    fireEvent.click(button);
    await waitFor(() => expect(screen.getByTestId('pause-all').textContent).toBe('Resume all'));
    expect(transport.requests('sync:set-paused')).toEqual([{ folderId: null, paused: true }]);
    expect(screen.getByTestId('pause-all').getAttribute('aria-pressed')).toBe('true');
  });

  it('sets the upload limit in MiB/s, and clears it when empty', async () => {
    const transport = connectedTransport([photos]);
    transport.on('sync:set-bandwidth', () => ok(null));
    await renderConnected(transport);
    const input = screen.getByLabelText('Upload limit in MiB per second (empty: none)');
    fireEvent.change(input, { target: { value: '2.5' } });
    fireEvent.click(screen.getByRole('button', { name: 'Set' }));
    fireEvent.change(input, { target: { value: '' } });
    fireEvent.click(screen.getByRole('button', { name: 'Set' }));
    await waitFor(() => expect(transport.requests('sync:set-bandwidth')).toEqual([{ bytesPerSecond: 2.5 * 1024 * 1024 }, { bytesPerSecond: null }]));
  });

  it('shows a failed action’s message as a dismissible notice', async () => {
    const transport = connectedTransport([photos]);
    transport.on('sync:files', () => ok([status('f1', 'b.jpg', 'error')]));
    transport.on('sync:retry', () => failure('b.jpg no longer exists', 'path-not-found'));
    await renderConnected(transport, 'files');
    fireEvent.click(await screen.findByRole('button', { name: 'Retry b.jpg' }));
    const notice = await screen.findByTestId('notice');
    expect(notice.textContent).toContain('b.jpg no longer exists');
    expect(transport.requests('sync:retry')).toEqual([{ folderId: 'f1', path: 'b.jpg' }]);
    fireEvent.click(within(notice).getByRole('button', { name: 'Dismiss' }));
    expect(screen.queryByTestId('notice')).toBeNull();
  });

  it('stops syncing a folder only after confirmation', async () => {
    const transport = connectedTransport([photos]);
    transport.on('sync:remove-folder', () => ok(null));
    await renderConnected(transport);
    const confirm = vi.spyOn(window, 'confirm').mockReturnValueOnce(false).mockReturnValueOnce(true);
    const stop = screen.getByRole('button', { name: 'Stop syncing /home/me/Photos' });
    fireEvent.click(stop);
    expect(transport.requests('sync:remove-folder')).toEqual([]);
    fireEvent.click(stop);
    await waitFor(() => expect(transport.requests('sync:remove-folder')).toEqual([{ folderId: 'f1' }]));
    expect(confirm).toHaveBeenCalledTimes(2);
    expect(confirm.mock.calls[0]?.[0]).toContain('Nothing is deleted');
  });

  it('reports a key check that finds objects the key does not decrypt', async () => {
    const transport = connectedTransport([folder({ id: 'c1', localPath: '/home/me/Secret', sse: 'c', keyName: 'photos' })]);
    transport.on('sync:verify-key', () => ok({ checked: 10, matched: 8, mismatched: ['x.jpg', 'y.jpg'], notSseC: 0 }));
    await renderConnected(transport);
    fireEvent.click(screen.getByRole('button', { name: 'Check key' }));
    expect((await screen.findByTestId('notice')).textContent).toContain('Key photos does NOT decrypt 2 of 10 checked objects (e.g. x.jpg).');
  });
});

describe('EngineStatus', () => {
  it.each([
    [{ kind: 'connecting' } as const, undefined, 'Connecting to the engine…'],
    [{ kind: 'connected' } as const, '0.1.0', 'Connected to engine 0.1.0'],
    [{ kind: 'failed', error: { code: 'endpoint-unreachable', message: 'The cosync engine does not answer.' } } as const, undefined, 'The cosync engine does not answer.'],
  ])('shows %o', (connection, version, text) => {
    render(<EngineStatus connection={connection} version={version} />);
    expect(screen.getByText(text)).toBeTruthy();
  });
});
