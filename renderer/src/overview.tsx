/** The overview: every sync folder with its state, counts, bytes, speed and ETA, and the throughput graph. */
import type { FolderOverview, Overview } from '../../app/contract.js';
import { formatBytes, formatDuration, formatRate, plural } from './format.js';

const ACTIVITY_LABELS: Readonly<Record<FolderOverview['activity'], string>> = {
  idle: 'Up to date',
  scanning: 'Scanning',
  syncing: 'Syncing',
  paused: 'Paused',
  error: 'Needs attention',
};

const SSE_LABELS: Readonly<Record<FolderOverview['sse'], string>> = { none: 'no server-side encryption', cos: 'SSE-COS', kms: 'SSE-KMS', c: 'SSE-C' };

/** A choice among the sync folders, by their local path. */
export function FolderSelect({ folders, value, onChange, label }: { readonly folders: ReadonlyArray<FolderOverview>; readonly value: string; readonly onChange: (id: string) => void; readonly label: string }) {
  return (
    <select value={value} onChange={(event) => onChange(event.target.value)} aria-label={label}>
      {folders.map((folder) => (
        <option key={folder.id} value={folder.id}>
          {folder.localPath}
        </option>
      ))}
    </select>
  );
}

/** The last minutes of upload speed as a small area chart (SVG, no library). */
export function ThroughputGraph({ samples }: { readonly samples: ReadonlyArray<number> }) {
  const width = 240;
  const height = 48;
  const peak = Math.max(1, ...samples);
  const step = samples.length > 1 ? width / (samples.length - 1) : width;
  const points = samples.map((value, index) => `${(index * step).toFixed(1)},${(height - (value / peak) * (height - 2)).toFixed(1)}`);
  const current = samples.at(-1) ?? 0;
  return (
    <figure className="graph" aria-label={`Upload speed over the last ${plural(Math.max(1, Math.round(samples.length / 60)), 'minute')}; now ${formatRate(current)}, peak ${formatRate(peak === 1 ? 0 : peak)}`}>
      <svg width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-hidden="true">
        {points.length > 1 ? <polygon points={`0,${height} ${points.join(' ')} ${((samples.length - 1) * step).toFixed(1)},${height}`} className="graph-area" /> : null}
        {points.length > 1 ? <polyline points={points.join(' ')} className="graph-line" fill="none" /> : null}
      </svg>
      <figcaption>{formatRate(current)}</figcaption>
    </figure>
  );
}

export function FolderCard({
  folder,
  onOpenFiles,
  onTogglePause,
  onRemove,
  onVerifyKey,
}: {
  readonly folder: FolderOverview;
  readonly onOpenFiles: () => void;
  readonly onTogglePause: () => void;
  readonly onRemove: () => void;
  readonly onVerifyKey: () => void;
}) {
  const { counts } = folder;
  const pending = counts.queued + counts.hashing + counts.uploading + counts.verifying;
  const titleId = `folder-${folder.id}`;
  return (
    <article className={`folder-card activity-${folder.activity}`} aria-labelledby={titleId} data-folder={folder.id}>
      <header>
        <h3 id={titleId} title={folder.localPath}>
          {folder.localPath}
        </h3>
        <span className={`badge badge-${folder.activity}`} data-testid="folder-activity">
          {ACTIVITY_LABELS[folder.activity]}
        </span>
      </header>
      <p className="muted destination">
        → {folder.bucket}/{folder.prefix} · {SSE_LABELS[folder.sse]}
        {folder.keyName !== undefined ? ` (key ${folder.keyName})` : ''}
        {folder.storageClass !== undefined ? <span data-testid="folder-storage-class"> · {folder.storageClass}</span> : null} · deletes: {folder.policy}
      </p>
      <dl className="counts">
        <div>
          <dt>Synced</dt>
          <dd data-testid="count-synced">{counts.synced.toLocaleString()}</dd>
        </div>
        <div>
          <dt>To do</dt>
          <dd data-testid="count-pending">{pending.toLocaleString()}</dd>
        </div>
        <div>
          <dt>Errors</dt>
          <dd data-testid="count-error" className={counts.error > 0 ? 'error-text' : undefined}>
            {counts.error.toLocaleString()}
          </dd>
        </div>
        <div>
          <dt>Conflicts</dt>
          <dd>{counts.conflict.toLocaleString()}</dd>
        </div>
        <div>
          <dt>Size</dt>
          <dd>{formatBytes(folder.bytesTotal)}</dd>
        </div>
        <div>
          <dt>Speed</dt>
          <dd>{folder.bytesPerSecond > 0 ? formatRate(folder.bytesPerSecond) : '—'}</dd>
        </div>
        <div>
          <dt>Left</dt>
          <dd>
            {folder.bytesPending > 0 ? formatBytes(folder.bytesPending) : '—'}
            {folder.etaSeconds !== undefined ? ` (about ${formatDuration(folder.etaSeconds)})` : ''}
          </dd>
        </div>
      </dl>
      {folder.problem !== undefined ? (
        <p className="notice notice-error" role="alert">
          {folder.problem.message}
        </p>
      ) : null}
      {folder.degraded !== undefined ? <p className="notice notice-warn">{folder.degraded}</p> : null}
      <div className="actions">
        <button type="button" onClick={onOpenFiles}>
          Show {plural(Object.values(counts).reduce((sum, count) => sum + count, 0), 'file')}
        </button>
        <button type="button" onClick={onTogglePause} aria-label={`${folder.activity === 'paused' ? 'Resume' : 'Pause'} ${folder.localPath}`}>
          {folder.activity === 'paused' ? 'Resume' : 'Pause'}
        </button>
        {folder.sse === 'c' ? (
          <button type="button" onClick={onVerifyKey}>
            Check key
          </button>
        ) : null}
        <button type="button" className="danger" onClick={onRemove} aria-label={`Stop syncing ${folder.localPath}`}>
          Stop syncing…
        </button>
      </div>
    </article>
  );
}

export function OverviewSummary({ overview }: { readonly overview: Overview }) {
  const totals = overview.folders.reduce(
    (sum, folder) => ({ files: sum.files + folder.counts.synced, errors: sum.errors + folder.counts.error, pending: sum.pending + folder.bytesPending }),
    { files: 0, errors: 0, pending: 0 },
  );
  return (
    <p className="summary" aria-live="polite">
      {plural(overview.folders.length, 'folder')} · {plural(totals.files, 'file')} synced
      {totals.pending > 0 ? ` · ${formatBytes(totals.pending)} to upload` : ''}
      {totals.errors > 0 ? ` · ${plural(totals.errors, 'error')}` : ''}
    </p>
  );
}
