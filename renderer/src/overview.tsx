/** The overview: every sync folder with its state, counts, bytes, speed and ETA, and the throughput graph. */
import type { FolderOverview, Overview } from '../../app/contract.js';
import { useTranslation } from 'react-i18next';
import { useFormat } from './i18n.js';

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
  const { t } = useTranslation();
  const format = useFormat();
  const width = 240;
  const height = 48;
  const peak = Math.max(1, ...samples);
  const step = samples.length > 1 ? width / (samples.length - 1) : width;
  const points = samples.map((value, index) => `${(index * step).toFixed(1)},${(height - (value / peak) * (height - 2)).toFixed(1)}`);
  const current = samples.at(-1) ?? 0;
  return (
    <figure className="graph" aria-label={t('graph.aria', { count: Math.max(1, Math.round(samples.length / 60)), now: format.rate(current), peak: format.rate(peak === 1 ? 0 : peak) })}>
      <svg width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-hidden="true">
        {points.length > 1 ? <polygon points={`0,${height} ${points.join(' ')} ${((samples.length - 1) * step).toFixed(1)},${height}`} className="graph-area" /> : null}
        {points.length > 1 ? <polyline points={points.join(' ')} className="graph-line" fill="none" /> : null}
      </svg>
      <figcaption>{format.rate(current)}</figcaption>
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
  const { t } = useTranslation();
  const format = useFormat();
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
          {t(`activity.${folder.activity}`)}
        </span>
      </header>
      <p className="muted destination">
        → {folder.bucket}/{folder.prefix} · {t(`sse.${folder.sse}`)}
        {folder.keyName !== undefined ? ` ${t('folder.keyName', { key: folder.keyName })}` : ''}
        {folder.storageClass !== undefined ? <span data-testid="folder-storage-class"> · {folder.storageClass}</span> : null} · {t('folder.deletes', { policy: t(`policy.${folder.policy}`) })}
      </p>
      <dl className="counts">
        <div>
          <dt>{t('folder.synced')}</dt>
          <dd data-testid="count-synced">{format.number(counts.synced)}</dd>
        </div>
        <div>
          <dt>{t('folder.pending')}</dt>
          <dd data-testid="count-pending">{format.number(pending)}</dd>
        </div>
        <div>
          <dt>{t('folder.errors')}</dt>
          <dd data-testid="count-error" className={counts.error > 0 ? 'error-text' : undefined}>
            {format.number(counts.error)}
          </dd>
        </div>
        <div>
          <dt>{t('folder.conflicts')}</dt>
          <dd>{format.number(counts.conflict)}</dd>
        </div>
        <div>
          <dt>{t('folder.size')}</dt>
          <dd>{format.bytes(folder.bytesTotal)}</dd>
        </div>
        <div>
          <dt>{t('folder.speed')}</dt>
          <dd>{folder.bytesPerSecond > 0 ? format.rate(folder.bytesPerSecond) : '—'}</dd>
        </div>
        <div>
          <dt>{t('folder.left')}</dt>
          <dd>
            {folder.bytesPending > 0 ? format.bytes(folder.bytesPending) : '—'}
            {folder.etaSeconds !== undefined ? ` ${t('folder.eta', { duration: format.duration(folder.etaSeconds) })}` : ''}
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
          {t('folder.showFiles', { count: Object.values(counts).reduce((sum, count) => sum + count, 0) })}
        </button>
        <button type="button" onClick={onTogglePause} aria-label={folder.activity === 'paused' ? t('folder.resumeAria', { path: folder.localPath }) : t('folder.pauseAria', { path: folder.localPath })}>
          {folder.activity === 'paused' ? t('folder.resume') : t('folder.pause')}
        </button>
        {folder.sse === 'c' ? (
          <button type="button" onClick={onVerifyKey}>
            {t('folder.checkKey')}
          </button>
        ) : null}
        <button type="button" className="danger" onClick={onRemove} aria-label={t('folder.removeAria', { path: folder.localPath })}>
          {t('folder.remove')}
        </button>
      </div>
    </article>
  );
}

export function OverviewSummary({ overview }: { readonly overview: Overview }) {
  const { t } = useTranslation();
  const format = useFormat();
  const totals = overview.folders.reduce(
    (sum, folder) => ({ files: sum.files + folder.counts.synced, errors: sum.errors + folder.counts.error, pending: sum.pending + folder.bytesPending }),
    { files: 0, errors: 0, pending: 0 },
  );
  return (
    <p className="summary" aria-live="polite">
      {t('summary.folders', { count: overview.folders.length })} · {t('summary.synced', { count: totals.files })}
      {totals.pending > 0 ? ` · ${t('summary.toUpload', { size: format.bytes(totals.pending) })}` : ''}
      {totals.errors > 0 ? ` · ${t('summary.errors', { count: totals.errors })}` : ''}
    </p>
  );
}
