// @vitest-environment jsdom
/**
 * The virtualized file list. jsdom has no layout: clientHeight is 0, so the list falls back to a
 * 600 px viewport (about 18 rows of 34 px, plus overscan).
 */
import { act, cleanup, configure, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FileStatus } from '../../app/sync-status.js';
import { EngineStore } from './engine-store.js';
import { counts, connectedTransport, folder, ok, status } from './fake-transport.test-helper.mjs';
import { FileList, ROW_HEIGHT } from './file-list.js';

// Answers arrive asynchronously; a busy machine may need more than the 1 s default to show them.
configure({ asyncUtilTimeout: 5_000 });
afterEach(cleanup);

/** Renders the list of folder f1 holding `list`; `frame()` delivers the store's pending notification. */
async function renderList(list: FileStatus[]) {
  const transport = connectedTransport([folder({ id: 'f1' })]).on('sync:files', () => ok(list));
  const frames: Array<() => void> = [];
  const store = new EngineStore(transport, (callback) => frames.push(callback));
  const onRetry = vi.fn();
  const frame = () => act(() => frames.splice(0).forEach((callback) => callback()));
  const tally = counts({ synced: list.filter((item) => item.status.state === 'synced').length, error: list.filter((item) => item.status.state === 'error').length });
  render(<FileList store={store} folderId="f1" counts={tally} onRetry={onRetry} />);
  // The list arrives, the store asks for a frame; delivering it renders the rows.
  await vi.waitFor(() => expect(frames.length).toBeGreaterThan(0), { timeout: 5_000 });
  await frame();
  expect(screen.getByText(`${list.length.toLocaleString()} file${list.length === 1 ? '' : 's'} shown`)).toBeTruthy();
  return { store, transport, onRetry, frame, grid: screen.getByRole('grid') };
}

const rows = () => screen.queryAllByRole('row');
const rowPaths = () => rows().map((row) => row.getAttribute('data-path'));
const selectedRow = () => rows().find((row) => row.getAttribute('aria-selected') === 'true');

/** A small folder: a few states, sorted by path as the engine sends it. */
const small = (): FileStatus[] => [
  status('f1', 'docs/a.txt', 'synced'),
  status('f1', 'docs/b.txt', 'error'),
  status('f1', 'photos/1.jpg', 'uploading'),
  status('f1', 'photos/2.jpg', 'synced'),
  status('f1', 'photos/3.jpg', 'conflict'),
  status('f1', 'z.bin', 'queued'),
];

describe('with 100,000 files', () => {
  const name = (index: number) => `dir-${String(Math.floor(index / 1000)).padStart(3, '0')}/file-${String(index).padStart(6, '0')}.dat`;
  const many = Array.from({ length: 100_000 }, (_, index) => status('f1', name(index), index % 1000 === 999 ? 'error' : 'synced'));

  it('keeps only a window of rows in the DOM, and scrolling moves the window', async () => {
    const { grid } = await renderList(many);
    expect(grid.getAttribute('aria-rowcount')).toBe('100000');
    expect(rows().length).toBeGreaterThan(10);
    expect(rows().length).toBeLessThan(100);
    expect(rowPaths()[0]).toBe(name(0));

    // Scroll to row 50,000: the rows around it replace the first ones.
    grid.scrollTop = 50_000 * ROW_HEIGHT;
    fireEvent.scroll(grid);
    expect(rows().length).toBeLessThan(100);
    expect(rowPaths()).toContain(name(50_000));
    expect(rowPaths()).not.toContain(name(0));
    const row = rows().find((candidate) => candidate.getAttribute('data-path') === name(50_000)) as HTMLElement;
    expect(row.getAttribute('aria-rowindex')).toBe('50001');
    expect(row.style.transform).toBe(`translateY(${50_000 * ROW_HEIGHT}px)`);
  });

  it('End selects the last file and scrolls it into the window', async () => {
    const { grid } = await renderList(many);
    grid.focus();
    fireEvent.keyDown(grid, { key: 'End' });
    expect(grid.getAttribute('aria-activedescendant')).toBe('file-row-99999');
    // jsdom fires no scroll event when scrollTop is set: fire the one a browser would.
    expect(grid.scrollTop).toBeGreaterThan(99_000 * ROW_HEIGHT);
    fireEvent.scroll(grid);
    expect(selectedRow()?.getAttribute('data-path')).toBe(name(99_999));
    expect(rows().length).toBeLessThan(100);
  });

  it('filters 100,000 files by state', async () => {
    await renderList(many);
    fireEvent.change(screen.getByLabelText('Filter by state'), { target: { value: 'error' } });
    await screen.findByText('100 files shown');
    expect(rows().every((row) => row.getAttribute('data-state') === 'error')).toBe(true);
    expect(rowPaths()[0]).toBe(name(999));
  });
});

describe('filter, search and sort', () => {
  it('narrows the rows by state', async () => {
    await renderList(small());
    fireEvent.change(screen.getByLabelText('Filter by state'), { target: { value: 'synced' } });
    expect(await screen.findByText('2 files shown')).toBeTruthy();
    expect(rowPaths()).toEqual(['docs/a.txt', 'photos/2.jpg']);
  });

  it('narrows the rows by a case-insensitive search in the path, and combines it with the filter', async () => {
    await renderList(small());
    fireEvent.change(screen.getByLabelText('Search by path'), { target: { value: '  PHOTOS/ ' } });
    expect(await screen.findByText('3 files shown')).toBeTruthy();
    expect(rowPaths()).toEqual(['photos/1.jpg', 'photos/2.jpg', 'photos/3.jpg']);

    fireEvent.change(screen.getByLabelText('Filter by state'), { target: { value: 'synced' } });
    expect(await screen.findByText('1 file shown')).toBeTruthy();
    expect(rowPaths()).toEqual(['photos/2.jpg']);

    fireEvent.change(screen.getByLabelText('Search by path'), { target: { value: 'nothing-like-this' } });
    expect(await screen.findByText('No file matches the search and filter.')).toBeTruthy();
    expect(rows()).toEqual([]);
  });

  it('sorting by state puts errors first, then conflicts, then work in progress', async () => {
    await renderList(small());
    fireEvent.change(screen.getByLabelText('Sort files'), { target: { value: 'state' } });
    expect(rows().map((row) => row.getAttribute('data-state'))).toEqual(['error', 'conflict', 'uploading', 'queued', 'synced', 'synced']);
    expect(rowPaths()[0]).toBe('docs/b.txt');
  });

  it('sorting by last change puts the newest first', async () => {
    await renderList([status('f1', 'old', 'synced', 1_000), status('f1', 'newest', 'synced', 3_000), status('f1', 'middle', 'synced', 2_000)]);
    fireEvent.change(screen.getByLabelText('Sort files'), { target: { value: 'changed' } });
    expect(rowPaths()).toEqual(['newest', 'middle', 'old']);
  });

  it('a filtered view follows status changes from the engine', async () => {
    const { store, frame } = await renderList(small());
    fireEvent.change(screen.getByLabelText('Filter by state'), { target: { value: 'error' } });
    expect(rowPaths()).toEqual(['docs/b.txt']);

    store.apply({ type: 'status', batch: { changes: [status('f1', 'z.bin', 'error', 5_000), status('f1', 'docs/b.txt', 'synced', 5_000)], forgotten: [] } });
    await frame();
    expect(rowPaths()).toEqual(['z.bin']);
  });

  it('shows a status change in place, and new and forgotten paths', async () => {
    const { store, frame } = await renderList(small());
    store.apply({ type: 'status', batch: { changes: [status('f1', 'z.bin', 'synced', 5_000), status('f1', 'a-new.txt', 'queued', 5_000)], forgotten: [{ folderId: 'f1', path: 'docs/a.txt' }] } });
    await frame();
    expect(rowPaths()).toEqual(['a-new.txt', 'docs/b.txt', 'photos/1.jpg', 'photos/2.jpg', 'photos/3.jpg', 'z.bin']);
    expect(rows().at(-1)?.getAttribute('data-state')).toBe('synced');
  });
});

describe('keyboard and retry', () => {
  it('ArrowDown, ArrowUp, End and Home move the selection (aria-selected)', async () => {
    const { grid } = await renderList(small());
    grid.focus();
    expect(selectedRow()?.getAttribute('data-path')).toBe('docs/a.txt');

    fireEvent.keyDown(grid, { key: 'ArrowDown' });
    expect(selectedRow()?.getAttribute('data-path')).toBe('docs/b.txt');
    expect(rows().filter((row) => row.getAttribute('aria-selected') === 'true')).toHaveLength(1);
    expect(grid.getAttribute('aria-activedescendant')).toBe('file-row-1');

    fireEvent.keyDown(grid, { key: 'End' });
    expect(selectedRow()?.getAttribute('data-path')).toBe('z.bin');
    fireEvent.keyDown(grid, { key: 'ArrowDown' });
    expect(selectedRow()?.getAttribute('data-path')).toBe('z.bin');

    fireEvent.keyDown(grid, { key: 'ArrowUp' });
    expect(selectedRow()?.getAttribute('data-path')).toBe('photos/3.jpg');
    fireEvent.keyDown(grid, { key: 'Home' });
    expect(selectedRow()?.getAttribute('data-path')).toBe('docs/a.txt');
    fireEvent.keyDown(grid, { key: 'ArrowUp' });
    expect(selectedRow()?.getAttribute('data-path')).toBe('docs/a.txt');
  });

  it('keeps a row selected when a filter leaves fewer rows than the selection’s index', async () => {
    const { grid, onRetry } = await renderList(small());
    grid.focus();
    fireEvent.keyDown(grid, { key: 'End' });
    expect(selectedRow()?.getAttribute('data-path')).toBe('z.bin');

    fireEvent.change(screen.getByLabelText('Filter by state'), { target: { value: 'error' } });
    expect(rowPaths()).toEqual(['docs/b.txt']);
    expect(selectedRow()?.getAttribute('data-path')).toBe('docs/b.txt');
    expect(grid.getAttribute('aria-activedescendant')).toBe('file-row-0');
    fireEvent.keyDown(grid, { key: 'Enter' });
    expect(onRetry).toHaveBeenCalledWith('docs/b.txt');
  });

  it('a click selects a row', async () => {
    await renderList(small());
    fireEvent.click(screen.getByText('photos/2.jpg'));
    expect(selectedRow()?.getAttribute('data-path')).toBe('photos/2.jpg');
  });

  it('the Retry button of an error row calls onRetry with its path; other rows have no Retry', async () => {
    const { onRetry } = await renderList(small());
    expect(screen.getAllByRole('button', { name: /^Retry / })).toHaveLength(1);
    const errorRow = rows().find((row) => row.getAttribute('data-path') === 'docs/b.txt') as HTMLElement;
    expect(within(errorRow).getByText(/Access denied by the bucket policy/)).toBeTruthy();
    fireEvent.click(within(errorRow).getByRole('button', { name: 'Retry docs/b.txt' }));
    expect(onRetry).toHaveBeenCalledTimes(1);
    expect(onRetry).toHaveBeenCalledWith('docs/b.txt');
  });

  it('Enter retries the selected row only when it is failing', async () => {
    const { grid, onRetry } = await renderList(small());
    grid.focus();
    fireEvent.keyDown(grid, { key: 'Enter' });
    expect(onRetry).not.toHaveBeenCalled();
    fireEvent.keyDown(grid, { key: 'ArrowDown' });
    fireEvent.keyDown(grid, { key: 'Enter' });
    expect(onRetry).toHaveBeenCalledWith('docs/b.txt');
    expect(onRetry).toHaveBeenCalledTimes(1);
  });

  it('shows an upload’s speed once its progress has been reported twice', async () => {
    const { store, frame } = await renderList(small());
    const progress = (bytesDone: number, at: number) => status('f1', 'z.bin', { state: 'uploading', bytesDone, bytesTotal: 4 * 1024 * 1024 }, at);
    const row = () => rows().find((candidate) => candidate.getAttribute('data-path') === 'z.bin') as HTMLElement;
    store.apply({ type: 'status', batch: { changes: [progress(1024 * 1024, 2_000)], forgotten: [] } });
    await frame();
    expect(row().textContent).toMatch(/1\.0 MiB of 4\.0 MiB$/);
    store.apply({ type: 'status', batch: { changes: [progress(3 * 1024 * 1024, 3_000)], forgotten: [] } });
    await frame();
    expect(row().textContent).toMatch(/3\.0 MiB of 4\.0 MiB · 2\.0 MiB\/s$/);
  });

  it('shows upload progress, conflicts and the engine’s error for the list', async () => {
    await renderList(small());
    expect(screen.getByRole('progressbar', { name: 'Uploading photos/1.jpg' }).getAttribute('value')).toBe('50');
    expect(screen.getByText('Changed here and in the bucket')).toBeTruthy();
  });
});

describe('loading', () => {
  it('says when the folder has no files yet', async () => {
    await renderList([]);
    expect(screen.getByText(/No files yet/)).toBeTruthy();
  });

  it('shows the engine’s message when the files cannot be listed', async () => {
    const transport = connectedTransport([folder({ id: 'f1' })]).on('sync:files', () => ({ ok: false, error: { code: 'usage', message: 'No sync folder f1' } }));
    const store = new EngineStore(transport, (callback) => window.setTimeout(callback, 0));
    render(<FileList store={store} folderId="f1" counts={counts()} onRetry={() => undefined} />);
    expect(await screen.findByText('No sync folder f1')).toBeTruthy();
    expect(screen.queryByRole('grid')).toBeNull();
  });
});
