// @vitest-environment jsdom
/** Restore, drag-and-drop backup, the job list and the activity log. */
import { act, cleanup, configure, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RemoteEntry } from '../../app/contract.js';
import { describeRetrieving } from '../../app/transfer-events.js';
import { activity, deferred, FakeTransport, failure, folder, job, ok } from './fake-transport.test-helper.mjs';
import { ActivityLog, BackupPanel, JobList, RestorePanel } from './transfers.js';

// Answers arrive asynchronously; a busy machine may need more than the 1 s default to show them.
configure({ asyncUtilTimeout: 5_000 });
afterEach(cleanup);

const restoreButton = () => screen.getByRole('button', { name: /^Restore/ }) as HTMLButtonElement;

describe('RestorePanel', () => {
  /** A bucket with docs/ (holding b.txt and deep/) and a.txt at the top of folder f1. */
  const tree: Record<string, RemoteEntry[]> = {
    '': [
      { path: 'docs/', kind: 'folder', sizeBytes: 0 },
      { path: 'a.txt', kind: 'file', sizeBytes: 2048 },
    ],
    'docs/': [
      { path: 'docs/deep/', kind: 'folder', sizeBytes: 0 },
      { path: 'docs/b.txt', kind: 'file', sizeBytes: 10 },
    ],
    'docs/deep/': [{ path: 'docs/deep/c.txt', kind: 'file', sizeBytes: 1 }],
  };

  function renderRestore(transport = new FakeTransport()) {
    transport.on('sync:list-remote', (request) => ok(tree[request.path] ?? []));
    transport.on('sync:restore', (request) => ok(job({ id: 'r1', kind: 'restore', files: request.paths.length })));
    const onStarted = vi.fn();
    render(<RestorePanel transport={transport} folders={[folder({ id: 'f1' }), folder({ id: 'f2', localPath: '/home/me/Work' })]} onStarted={onStarted} />);
    return { transport, onStarted };
  }

  it('lists one level of the folder’s remote tree', async () => {
    const { transport } = renderRestore();
    const list = await screen.findByRole('list', { name: 'Files and folders in the bucket' });
    expect(within(list).getAllByRole('listitem').map((item) => item.textContent?.trim())).toEqual(['docs/0 B', 'a.txt2.0 KiB']);
    expect(transport.requests('sync:list-remote')).toEqual([{ folderId: 'f1', scope: 'folder', path: '' }]);
  });

  it('navigates into folders and back with the breadcrumbs', async () => {
    const { transport } = renderRestore();
    fireEvent.click(await screen.findByRole('button', { name: 'docs/' }));
    expect(await screen.findByText('b.txt')).toBeTruthy();
    expect(transport.requests('sync:list-remote').at(-1)).toEqual({ folderId: 'f1', scope: 'folder', path: 'docs/' });

    fireEvent.click(await screen.findByRole('button', { name: 'deep/' }));
    expect(await screen.findByText('c.txt')).toBeTruthy();
    const crumbs = screen.getByRole('navigation', { name: 'Remote folder' });
    expect(within(crumbs).getAllByRole('button').map((button) => button.textContent)).toEqual(['(root)', 'docs', 'deep']);

    fireEvent.click(within(crumbs).getByRole('button', { name: 'docs' }));
    expect(await screen.findByText('b.txt')).toBeTruthy();
    fireEvent.click(within(crumbs).getByRole('button', { name: '(root)' }));
    expect(await screen.findByText('a.txt')).toBeTruthy();
    expect(transport.requests('sync:list-remote').map((request) => request.path)).toEqual(['', 'docs/', 'docs/deep/', 'docs/', '']);
  });

  it('restores the selected paths to their original place (destination null)', async () => {
    const { transport, onStarted } = renderRestore();
    expect(restoreButton().disabled).toBe(true);
    fireEvent.click(await screen.findByLabelText('Select a.txt'));
    fireEvent.click(screen.getByLabelText('Select docs/'));
    expect(restoreButton().textContent).toBe('Restore 2 items');

    fireEvent.click(restoreButton());

    await waitFor(() => expect(onStarted).toHaveBeenCalledWith(expect.objectContaining({ id: 'r1', kind: 'restore' })));
    expect(transport.requests('sync:restore')).toEqual([{ folderId: 'f1', scope: 'folder', paths: ['a.txt', 'docs/'], destination: null }]);
    // The selection is cleared for the next restore.
    expect((screen.getByLabelText('Select a.txt') as HTMLInputElement).checked).toBe(false);
    expect(restoreButton().disabled).toBe(true);
  });

  it('keeps the selection across folders and restores elsewhere once a destination is given', async () => {
    const { transport } = renderRestore();
    fireEvent.click(await screen.findByLabelText('Select a.txt'));
    fireEvent.click(screen.getByRole('button', { name: 'docs/' }));
    fireEvent.click(await screen.findByLabelText('Select docs/b.txt'));

    fireEvent.click(screen.getByLabelText(/Another folder/));
    expect(restoreButton().disabled).toBe(true);
    fireEvent.change(screen.getByLabelText('Restore destination folder'), { target: { value: ' /home/me/Restored ' } });
    expect(restoreButton().disabled).toBe(false);
    fireEvent.click(restoreButton());

    await waitFor(() => expect(transport.requests('sync:restore')).toHaveLength(1));
    expect(transport.requests('sync:restore')[0]).toEqual({ folderId: 'f1', scope: 'folder', paths: ['a.txt', 'docs/b.txt'], destination: '/home/me/Restored' });
  });

  it('browses the whole bucket of another folder, which always needs a destination', async () => {
    const { transport } = renderRestore();
    await screen.findByText('a.txt');
    fireEvent.change(screen.getByLabelText('Folder'), { target: { value: 'f2' } });
    fireEvent.change(screen.getByLabelText('What to browse'), { target: { value: 'bucket' } });
    await waitFor(() => expect(transport.requests('sync:list-remote').at(-1)).toEqual({ folderId: 'f2', scope: 'bucket', path: '' }));
    expect(screen.queryByLabelText(/Their original place/)).toBeNull();

    fireEvent.click(await screen.findByLabelText('Select a.txt'));
    expect(restoreButton().disabled).toBe(true);
    fireEvent.change(screen.getByLabelText('Restore destination folder'), { target: { value: '/tmp/out' } });
    fireEvent.click(restoreButton());
    await waitFor(() => expect(transport.requests('sync:restore')).toEqual([{ folderId: 'f2', scope: 'bucket', paths: ['a.txt'], destination: '/tmp/out' }]));
  });

  it('shows the engine’s error when listing or restoring fails', async () => {
    const transport = new FakeTransport();
    renderRestore(transport);
    transport.on('sync:restore', () => failure('Key photos does not decrypt docs/b.txt', 'key-mismatch'));
    fireEvent.click(await screen.findByLabelText('Select a.txt'));
    fireEvent.click(restoreButton());
    expect((await screen.findByRole('alert')).textContent).toBe('Key photos does not decrypt docs/b.txt');

    cleanup();
    const failing = new FakeTransport({ 'sync:list-remote': () => failure('Access denied to bucket photos', 'access-denied') });
    render(<RestorePanel transport={failing} folders={[folder({ id: 'f1' })]} onStarted={() => undefined} />);
    expect((await screen.findByRole('alert')).textContent).toBe('Access denied to bucket photos');
  });

  it('ignores a slow listing that arrives after the user moved on', async () => {
    const slow = deferred<ReturnType<typeof ok<RemoteEntry[]>>>();
    const transport = new FakeTransport();
    transport.on('sync:list-remote', (request) => (request.path === '' ? slow.promise : ok(tree[request.path] ?? [])));
    render(<RestorePanel transport={transport} folders={[folder({ id: 'f1' })]} onStarted={() => undefined} />);
    expect(screen.getByText('Listing the bucket…')).toBeTruthy();
    // Before the folder's listing answers, the user switches to the whole bucket, which answers at once.
    transport.on('sync:list-remote', (request) => ok(tree[request.path] ?? []));
    fireEvent.change(screen.getByLabelText('What to browse'), { target: { value: 'bucket' } });
    expect(await screen.findByText('a.txt')).toBeTruthy();
    // The first (folder-scope) answer arrives late, with other entries: it must not replace the listing.
    await act(async () => slow.resolve(ok([{ path: 'stale.txt', kind: 'file', sizeBytes: 1 }])));
    expect(screen.queryByText('stale.txt')).toBeNull();
    expect(screen.getByText('a.txt')).toBeTruthy();
  });

  it('asks for a sync folder first when there is none', () => {
    const transport = new FakeTransport();
    render(<RestorePanel transport={transport} folders={[]} onStarted={() => undefined} />);
    expect(screen.getByText(/Add a sync folder first/)).toBeTruthy();
    expect(transport.calls).toEqual([]);
  });
});

describe('BackupPanel', () => {
  function renderBackup(transport = new FakeTransport()) {
    transport.on('sync:backup', (request) => ok(job({ id: 'b1', kind: 'backup', files: request.paths.length })));
    const onStarted = vi.fn();
    render(<BackupPanel transport={transport} folders={[folder({ id: 'f1' }), folder({ id: 'f2', bucket: 'work-1250000000' })]} onStarted={onStarted} />);
    return { transport, onStarted, zone: screen.getByTestId('drop-zone') };
  }

  it('backs up dropped files: prepareDrop, then sync:backup with the folder and prefix', async () => {
    const { transport, onStarted, zone } = renderBackup();
    const file = new File(['hello'], 'a.txt');
    fireEvent.dragOver(zone);
    expect(zone.className).toContain('drop-over');
    fireEvent.drop(zone, { dataTransfer: { files: [file], items: [] } });

    expect((await screen.findByTestId('dropped-summary')).textContent).toMatch(/^1 file \(5 B\) ready: a\.txt$/);
    expect(zone.className).not.toContain('drop-over');
    fireEvent.change(screen.getByLabelText(/Bucket and encryption of/), { target: { value: 'f2' } });
    fireEvent.change(screen.getByLabelText('Backup prefix'), { target: { value: 'backups/phone/' } });
    fireEvent.click(screen.getByRole('button', { name: 'Back up' }));

    await waitFor(() => expect(onStarted).toHaveBeenCalledWith(expect.objectContaining({ id: 'b1' })));
    expect(transport.prepareDrop).toHaveBeenCalledTimes(1);
    expect(transport.prepareDrop.mock.calls[0]?.[0]).toEqual([{ file, relativePath: 'a.txt' }]);
    expect(transport.requests('sync:backup')).toEqual([{ folderId: 'f2', paths: ['/drops/a.txt'], prefix: 'backups/phone/' }]);
    // Ready for the next drop.
    expect(screen.queryByTestId('dropped-summary')).toBeNull();
  });

  it('walks a dropped folder (webkitGetAsEntry), page by page', async () => {
    const { zone } = renderBackup();
    const fileEntry = (name: string, content: string) => ({ isFile: true, isDirectory: false, name, file: (resolve: (file: File) => void) => resolve(new File([content], name)) });
    const pages = [[fileEntry('1.jpg', 'aa'), fileEntry('2.jpg', 'bbb')], [fileEntry('3.jpg', 'c')], []];
    const directory = { isFile: false, isDirectory: true, name: 'album', createReader: () => ({ readEntries: (resolve: (page: unknown[]) => void) => resolve(pages.shift() ?? []) }) };
    fireEvent.drop(zone, { dataTransfer: { files: [], items: [{ webkitGetAsEntry: () => directory }] } });
    expect((await screen.findByTestId('dropped-summary')).textContent).toBe('3 files (6 B) ready: album/1.jpg, album/2.jpg, album/3.jpg');
  });

  it('does not start a backup when the files cannot be handed to the engine', async () => {
    const transport = new FakeTransport();
    transport.prepareDrop.mockResolvedValueOnce(failure('a.txt could not be sent to the engine; nothing was backed up.', 'endpoint-unreachable'));
    const { onStarted, zone } = renderBackup(transport);
    fireEvent.drop(zone, { dataTransfer: { files: [new File(['x'], 'a.txt')], items: [] } });
    // The drop is read asynchronously: click only once the files are listed (the button is disabled before).
    await screen.findByTestId('dropped-summary');
    fireEvent.click(screen.getByRole('button', { name: 'Back up' }));
    expect((await screen.findByRole('alert')).textContent).toBe('a.txt could not be sent to the engine; nothing was backed up.');
    expect(transport.requests('sync:backup')).toEqual([]);
    expect(onStarted).not.toHaveBeenCalled();
  });

  it('shows the engine’s refusal of the backup', async () => {
    const transport = new FakeTransport();
    const { zone } = renderBackup(transport);
    transport.on('sync:backup', () => failure('Prefix photos/ overlaps the sync folder /home/me/f1', 'usage'));
    fireEvent.drop(zone, { dataTransfer: { files: [new File(['x'], 'a.txt')], items: [] } });
    // The drop is read asynchronously: click only once the files are listed (the button is disabled before).
    await screen.findByTestId('dropped-summary');
    fireEvent.click(screen.getByRole('button', { name: 'Back up' }));
    expect((await screen.findByRole('alert')).textContent).toBe('Prefix photos/ overlaps the sync folder /home/me/f1');
  });

  it('says so when nothing usable was dropped, and cannot back up', async () => {
    const { zone } = renderBackup();
    fireEvent.drop(zone, { dataTransfer: { files: [], items: [] } });
    expect((await screen.findByRole('alert')).textContent).toMatch(/Nothing to back up/);
    expect((screen.getByRole('button', { name: 'Back up' }) as HTMLButtonElement).disabled).toBe(true);
  });
});

describe('JobList', () => {
  it('shows each job’s state, newest first, with the error of a failed one', () => {
    render(
      <JobList
        jobs={[
          job({ id: 'j1', title: 'Back up a.txt', state: 'finished', filesDone: 1, files: 1, bytesDone: 100, bytes: 100 }),
          job({ id: 'j2', title: 'Restore docs/', state: 'failed', filesDone: 1, filesFailed: 2, files: 3, error: { code: 'key-mismatch', message: 'Wrong key for docs/b.txt' } }),
          job({ id: 'j3', title: 'Back up album', state: 'running', filesDone: 2, files: 10 }),
        ]}
      />,
    );
    const items = screen.getAllByRole('listitem');
    expect(items.map((item) => item.getAttribute('data-job'))).toEqual(['j3', 'j2', 'j1']);
    expect(within(items[0] as HTMLElement).getByText('Running')).toBeTruthy();
    expect(within(items[0] as HTMLElement).getByText(/2 of 10 files/)).toBeTruthy();
    expect(within(items[1] as HTMLElement).getByText('Failed')).toBeTruthy();
    expect(within(items[1] as HTMLElement).getByRole('alert').textContent).toBe('Wrong key for docs/b.txt');
    expect(within(items[1] as HTMLElement).getByText(/2 failed/)).toBeTruthy();
    expect(within(items[2] as HTMLElement).getByText('Done, verified')).toBeTruthy();
    expect(within(items[2] as HTMLElement).queryByRole('alert')).toBeNull();
    expect(screen.getByRole('progressbar', { name: 'Back up a.txt' }).getAttribute('value')).toBe('100');
  });

  it('shows a restore with archived files as retrieving, with the typical time, not as failed', () => {
    const note = `photos/old.bin: ${describeRetrieving({ storageClass: 'ARCHIVE', readyIn: '3–5 hours' })}`;
    render(<JobList jobs={[job({ id: 'j4', title: 'Restore photos/', state: 'finished', filesDone: 2, files: 4, retrieving: { files: 2, note } })]} />);
    const item = screen.getByRole('listitem');
    expect(within(item).getByText('Done, some still retrieving')).toBeTruthy();
    expect(within(item).getByText(/2 retrieving from archive/)).toBeTruthy();
    expect(within(item).getByRole('status').textContent).toBe(
      'photos/old.bin: retrieving from archive (ARCHIVE), ready in about 3–5 hours (and 1 more). Restore again once they are ready to download them.',
    );
    expect(within(item).queryByRole('alert')).toBeNull();
  });

  it('offers Cancel on a running job only, and shows a cancelled one as cancelled', () => {
    const onCancel = vi.fn();
    render(
      <JobList
        jobs={[job({ id: 'j5', title: 'Back up film', state: 'cancelled', filesDone: 0, files: 1 }), job({ id: 'j6', title: 'Restore docs/', state: 'running', filesDone: 1, files: 3 })]}
        onCancel={onCancel}
      />,
    );
    const [running, cancelled] = screen.getAllByRole('listitem') as [HTMLElement, HTMLElement];
    fireEvent.click(within(running).getByRole('button', { name: 'Cancel Restore docs/' }));
    expect(onCancel).toHaveBeenCalledWith('j6');
    expect(within(cancelled).getByText('Cancelled')).toBeTruthy();
    expect(within(cancelled).queryByRole('button')).toBeNull();
    expect(within(cancelled).queryByRole('alert')).toBeNull();
  });

  it('renders nothing without jobs', () => {
    const { container } = render(<JobList jobs={[]} />);
    expect(container.innerHTML).toBe('');
  });
});

describe('ActivityLog', () => {
  const entries = [
    activity({ text: 'scan started', level: 'info', time: '2026-01-01T10:00:00.000Z' }),
    activity({ text: 'slow upload', level: 'warn', folder: 'f1', time: '2026-01-01T10:00:01.000Z' }),
    activity({ text: 'debug detail', level: 'debug', time: '2026-01-01T10:00:02.000Z' }),
    activity({ text: 'upload failed', level: 'error', time: '2026-01-01T10:00:03.000Z' }),
  ];

  it('shows every entry, newest first', () => {
    render(<ActivityLog entries={entries} errorsOnly={false} />);
    const log = screen.getByRole('list', { name: 'Activity log' });
    expect(within(log).getAllByRole('listitem').map((item) => item.querySelector('.text')?.textContent)).toEqual(['upload failed', 'debug detail', 'slow upload', 'scan started']);
    expect(within(log).getByText('[f1]', { exact: false })).toBeTruthy();
  });

  it('errorsOnly keeps errors and warnings', () => {
    render(<ActivityLog entries={entries} errorsOnly />);
    const log = screen.getByRole('list', { name: 'Errors and warnings' });
    expect(within(log).getAllByRole('listitem').map((item) => item.querySelector('.text')?.textContent)).toEqual(['upload failed', 'slow upload']);
  });

  it('says when there is nothing to show', () => {
    render(<ActivityLog entries={entries.filter((entry) => entry.level === 'info')} errorsOnly />);
    expect(screen.getByText('No errors or warnings.')).toBeTruthy();
    cleanup();
    render(<ActivityLog entries={[]} errorsOnly={false} />);
    expect(screen.getByText('Nothing logged yet.')).toBeTruthy();
  });
});
