// @vitest-environment jsdom
/** The overview pieces: a folder's card, the throughput graph, the one-line summary (numbers and dates: app/format.test.ts). */
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { counts, folder, overview } from './fake-transport.test-helper.mjs';
import { FolderCard, OverviewSummary, ThroughputGraph } from './overview.js';

afterEach(cleanup);

function renderCard(overrides: Parameters<typeof folder>[0]) {
  const handlers = { onOpenFiles: vi.fn(), onTogglePause: vi.fn(), onRemove: vi.fn(), onVerifyKey: vi.fn() };
  render(<FolderCard folder={folder(overrides)} {...handlers} />);
  return handlers;
}

describe('FolderCard', () => {
  it('shows the folder’s counts, bytes left and ETA; work in progress adds up to “To do”', () => {
    renderCard({
      id: 'f1',
      localPath: '/home/me/Photos',
      activity: 'syncing',
      counts: counts({ synced: 1200, queued: 3, hashing: 1, uploading: 2, verifying: 1, error: 4, conflict: 1, ignored: 5 }),
      bytesPending: 3 * 1024 * 1024,
      bytesPerSecond: 1024 * 1024,
      etaSeconds: 3,
    });
    expect(screen.getByTestId('folder-activity').textContent).toBe('Syncing');
    expect(screen.getByTestId('count-synced').textContent).toBe((1200).toLocaleString());
    expect(screen.getByTestId('count-pending').textContent).toBe('7');
    expect(screen.getByTestId('count-error').textContent).toBe('4');
    expect(screen.getByTestId('count-error').className).toBe('error-text');
    expect(screen.getByText('3.0 MiB (about 3 sec)')).toBeTruthy();
    expect(screen.getByText('1.0 MiB/s')).toBeTruthy();
    // Every file of the folder, whatever its state.
    expect(screen.getByRole('button', { name: `Show ${(1217).toLocaleString()} files` })).toBeTruthy();
  });

  it('shows the folder’s problem as an alert and a degraded watcher as a warning', () => {
    renderCard({ id: 'f1', activity: 'error', problem: { code: 'credentials-rejected', message: 'COS rejected the SecretId' }, degraded: 'Too many folders to watch: rescanning every 5 minutes' });
    expect(screen.getByTestId('folder-activity').textContent).toBe('Needs attention');
    expect(screen.getByRole('alert').textContent).toBe('COS rejected the SecretId');
    expect(screen.getByText('Too many folders to watch: rescanning every 5 minutes')).toBeTruthy();
  });

  it('offers Check key only for SSE-C folders', () => {
    const handlers = renderCard({ id: 'c', sse: 'c', keyName: 'photos' });
    expect(screen.getByText(/SSE-C \(key photos\)/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Check key' }));
    expect(handlers.onVerifyKey).toHaveBeenCalledTimes(1);
    cleanup();
    renderCard({ id: 'k', sse: 'cos' });
    expect(screen.queryByRole('button', { name: 'Check key' })).toBeNull();
  });

  it('pauses a running folder and resumes a paused one, and asks to stop syncing', () => {
    const running = renderCard({ id: 'f1', localPath: '/home/me/Photos' });
    fireEvent.click(screen.getByRole('button', { name: 'Pause /home/me/Photos' }));
    expect(running.onTogglePause).toHaveBeenCalledTimes(1);
    fireEvent.click(screen.getByRole('button', { name: 'Stop syncing /home/me/Photos' }));
    expect(running.onRemove).toHaveBeenCalledTimes(1);
    cleanup();
    renderCard({ id: 'f1', localPath: '/home/me/Photos', activity: 'paused' });
    expect(screen.getByTestId('folder-activity').textContent).toBe('Paused');
    expect(screen.getByRole('button', { name: 'Resume /home/me/Photos' }).textContent).toBe('Resume');
  });
});

describe('ThroughputGraph', () => {
  it('describes the current and peak speed, and draws a line through the samples', () => {
    const { container } = render(<ThroughputGraph samples={[0, 2048, 1024]} />);
    const figure = screen.getByRole('figure');
    expect(figure.getAttribute('aria-label')).toBe('Upload speed over the last 1 minute; now 1.0 KiB/s, peak 2.0 KiB/s');
    const line = container.querySelector('polyline');
    expect(line?.getAttribute('points')).toBe('0.0,48.0 120.0,2.0 240.0,25.0');
    expect(screen.getByText('1.0 KiB/s')).toBeTruthy();
  });

  it('names the minutes the samples cover (one a second)', () => {
    render(<ThroughputGraph samples={Array.from({ length: 180 }, () => 0)} />);
    expect(screen.getByRole('figure').getAttribute('aria-label')).toMatch(/^Upload speed over the last 3 minutes;/);
  });

  it('draws nothing with fewer than two samples, and says peak 0 when idle', () => {
    const { container } = render(<ThroughputGraph samples={[]} />);
    expect(container.querySelector('polyline')).toBeNull();
    expect(screen.getByRole('figure').getAttribute('aria-label')).toContain('now 0 B/s, peak 0 B/s');
  });
});

describe('OverviewSummary', () => {
  it('sums synced files, bytes to upload and errors over all folders', () => {
    render(
      <OverviewSummary
        overview={overview([folder({ id: 'a', counts: counts({ synced: 2, error: 1 }), bytesPending: 1024 }), folder({ id: 'b', counts: counts({ synced: 1, error: 2 }), bytesPending: 1024 })])}
      />,
    );
    expect(screen.getByText(/folders/).textContent).toBe('2 folders · 3 files synced · 2.0 KiB to upload · 3 errors');
  });

  it('leaves out what is zero', () => {
    render(<OverviewSummary overview={overview([folder({ id: 'a', counts: counts({ synced: 1 }) })])} />);
    expect(screen.getByText(/folder/).textContent).toBe('1 folder · 1 file synced');
  });
});

