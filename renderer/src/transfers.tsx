/**
 * Transfers started from the window: restore (browse a folder's remote tree, select files or
 * folders, restore to their place or another folder, with the folder's key), drag-and-drop
 * backup (drop files or folders, choose where, watch the job), the jobs with their progress, and
 * the activity log.
 */
import { useEffect, useState, type DragEvent } from 'react';
import type { ActivityEntry, FolderOverview, JobSummary, RemoteEntry, RemoteScope } from '../../app/contract.js';
import type { CosyncErrorInfo } from '../../app/result.js';
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { useFormat } from './i18n.js';
import { FolderSelect } from './overview.js';
import type { DroppedFile, Transport } from './transport.js';

export function RestorePanel({ transport, folders, onStarted }: { readonly transport: Transport; readonly folders: ReadonlyArray<FolderOverview>; readonly onStarted: (job: JobSummary) => void }) {
  const { t } = useTranslation();
  const format = useFormat();
  const [folderId, setFolderId] = useState(folders[0]?.id ?? '');
  const [scope, setScope] = useState<RemoteScope>('folder');
  const [path, setPath] = useState('');
  const [entries, setEntries] = useState<ReadonlyArray<RemoteEntry> | undefined>();
  const [error, setError] = useState<CosyncErrorInfo | undefined>();
  const [selection, setSelection] = useState<ReadonlySet<string>>(new Set());
  const [elsewhere, setElsewhere] = useState(false);
  const [destination, setDestination] = useState('');
  const [message, setMessage] = useState<string | undefined>();

  useEffect(() => {
    // None chosen yet, or the chosen one was removed: the first folder.
    if (!folders.some((folder) => folder.id === folderId)) setFolderId(folders[0]?.id ?? '');
  }, [folders, folderId]);

  useEffect(() => {
    if (folderId === '') return;
    let live = true;
    setEntries(undefined);
    setError(undefined);
    void transport.call('sync:list-remote', { folderId, scope, path }).then((answer) => {
      if (!live) return;
      if (answer.ok) setEntries(answer.value);
      else setError(answer.error);
    });
    return () => {
      live = false;
    };
  }, [transport, folderId, scope, path]);

  if (folders.length === 0) return <p className="empty-state">{t('restore.noFolders')}</p>;

  const toggle = (entryPath: string): void => {
    const next = new Set(selection);
    if (next.has(entryPath)) next.delete(entryPath);
    else next.add(entryPath);
    setSelection(next);
  };

  const restore = async (): Promise<void> => {
    setMessage(undefined);
    const answer = await transport.call('sync:restore', { folderId, scope, paths: [...selection], destination: elsewhere || scope === 'bucket' ? destination.trim() : null });
    if (!answer.ok) return setMessage(answer.error.message);
    onStarted(answer.value);
    setSelection(new Set());
  };

  const parents = path === '' ? [] : path.slice(0, -1).split('/');
  return (
    <section className="panel" aria-labelledby="restore-title">
      <h2 id="restore-title">{t('views.restore')}</h2>
      <div className="toolbar">
        <label>
          {t('common.folder')}{' '}
          <FolderSelect
            folders={folders}
            value={folderId}
            label={t('common.folder')}
            onChange={(id) => {
              setFolderId(id);
              setPath('');
              setSelection(new Set());
            }}
          />
        </label>
        <label>
          {t('files.show')}{' '}
          <select
            value={scope}
            onChange={(event) => {
              setScope(event.target.value as RemoteScope);
              setPath('');
              setSelection(new Set());
            }}
            aria-label={t('restore.scope')}
          >
            <option value="folder">{t('restore.scopeFolder')}</option>
            <option value="bucket">{t('restore.scopeBucket')}</option>
          </select>
        </label>
      </div>
      <nav aria-label={t('restore.breadcrumbs')} className="breadcrumbs">
        <button type="button" className="link" onClick={() => setPath('')}>
          {t('restore.root')}
        </button>
        {parents.map((segment, index) => (
          <span key={index}>
            {' / '}
            <button type="button" className="link" onClick={() => setPath(`${parents.slice(0, index + 1).join('/')}/`)}>
              {segment}
            </button>
          </span>
        ))}
      </nav>
      {error !== undefined ? <p className="notice notice-error" role="alert">{error.message}</p> : null}
      {entries === undefined && error === undefined ? <p className="muted">{t('restore.listing')}</p> : null}
      {entries !== undefined && entries.length === 0 ? <p className="muted">{t('restore.empty')}</p> : null}
      {entries !== undefined && entries.length > 0 ? (
        <ul className="remote-list" aria-label={t('restore.list')} tabIndex={0}>
          {entries.map((entry) => {
            const name = entry.path.slice(path.length);
            return (
              <li key={entry.path}>
                <label>
                  <input type="checkbox" checked={selection.has(entry.path)} onChange={() => toggle(entry.path)} aria-label={t('restore.select', { path: entry.path })} />{' '}
                  {entry.kind === 'folder' ? (
                    <button type="button" className="link" onClick={() => setPath(entry.path)}>
                      {name}
                    </button>
                  ) : (
                    name
                  )}
                </label>
                <span className="muted">{format.bytes(entry.sizeBytes)}</span>
              </li>
            );
          })}
        </ul>
      ) : null}
      <fieldset>
        <legend>{t('restore.to')}</legend>
        {scope === 'folder' ? (
          <label className="radio">
            <input type="radio" name="restore-to" checked={!elsewhere} onChange={() => setElsewhere(false)} /> {t('restore.original')}
          </label>
        ) : null}
        <label className="radio">
          <input type="radio" name="restore-to" checked={elsewhere || scope === 'bucket'} onChange={() => setElsewhere(true)} /> {t('restore.elsewhere')}
          <input type="text" value={destination} onChange={(event) => setDestination(event.target.value)} placeholder={t('restore.destinationPlaceholder')} aria-label={t('restore.destination')} disabled={!elsewhere && scope === 'folder'} />
        </label>
      </fieldset>
      <button type="button" className="primary" disabled={selection.size === 0 || ((elsewhere || scope === 'bucket') && destination.trim() === '')} onClick={() => void restore()}>
        {selection.size > 0 ? t('restore.button', { count: selection.size }) : t('views.restore')}
      </button>
      {message !== undefined ? (
        <p className="notice notice-error" role="alert">
          {message}
        </p>
      ) : null}
    </section>
  );
}

/** Reads every file of a drop, walking dropped folders (webkitGetAsEntry). */
async function droppedFiles(transfer: DataTransfer): Promise<DroppedFile[]> {
  const result: DroppedFile[] = [];
  const walk = async (entry: FileSystemEntry, prefix: string): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
      result.push({ file, relativePath: prefix + entry.name });
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      for (;;) {
        // readEntries answers in pages (100 in Chromium) until an empty one.
        const page = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
        if (page.length === 0) break;
        for (const child of page) await walk(child, `${prefix}${entry.name}/`);
      }
    }
  };
  const entries = [...transfer.items].map((item) => item.webkitGetAsEntry()).filter((entry): entry is FileSystemEntry => entry !== null);
  if (entries.length > 0) for (const entry of entries) await walk(entry, '');
  else for (const file of transfer.files) result.push({ file, relativePath: file.name });
  return result;
}

export function BackupPanel({ transport, folders, onStarted }: { readonly transport: Transport; readonly folders: ReadonlyArray<FolderOverview>; readonly onStarted: (job: JobSummary) => void }) {
  const { t } = useTranslation();
  const format = useFormat();
  const [dropped, setDropped] = useState<ReadonlyArray<DroppedFile>>([]);
  const [over, setOver] = useState(false);
  const [folderId, setFolderId] = useState(folders[0]?.id ?? '');
  const [prefix, setPrefix] = useState(`backups/${new Date().toISOString().slice(0, 10)}/`);
  const [status, setStatus] = useState<{ kind: 'error' | 'busy'; text: string } | undefined>();

  useEffect(() => {
    // None chosen yet, or the chosen one was removed: the first folder.
    if (!folders.some((folder) => folder.id === folderId)) setFolderId(folders[0]?.id ?? '');
  }, [folders, folderId]);

  const onDrop = async (event: DragEvent<HTMLDivElement>): Promise<void> => {
    event.preventDefault();
    setOver(false);
    const files = await droppedFiles(event.dataTransfer);
    setDropped(files);
    setStatus(files.length === 0 ? { kind: 'error', text: t('backup.nothing') } : undefined);
  };

  const start = async (): Promise<void> => {
    const total = dropped.reduce((sum, item) => sum + item.file.size, 0);
    setStatus({ kind: 'busy', text: transport.kind === 'browser' ? t('backup.sending', { size: format.bytes(total) }) : t('backup.starting') });
    const prepared = await transport.prepareDrop(dropped, (sent) => setStatus({ kind: 'busy', text: t('backup.sent', { done: format.bytes(sent), total: format.bytes(total) }) }));
    if (!prepared.ok) return setStatus({ kind: 'error', text: prepared.error.message });
    const answer = await transport.call('sync:backup', { folderId, paths: prepared.value, prefix });
    if (!answer.ok) return setStatus({ kind: 'error', text: answer.error.message });
    onStarted(answer.value);
    setDropped([]);
    setStatus(undefined);
  };

  const folder = folders.find((candidate) => candidate.id === folderId);
  return (
    <section className="panel" aria-labelledby="backup-title">
      <h2 id="backup-title">{t('backup.title')}</h2>
      <div
        className={`drop-zone${over ? ' drop-over' : ''}`}
        onDragOver={(event) => {
          event.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(event) => void onDrop(event)}
        data-testid="drop-zone"
        role="region"
        aria-label={t('backup.dropAria')}
      >
        {dropped.length === 0 ? (
          <p>{t('backup.drop')}</p>
        ) : (
          <p data-testid="dropped-summary">
            {t('backup.ready', { count: dropped.length, size: format.bytes(dropped.reduce((sum, item) => sum + item.file.size, 0)) })} {dropped.slice(0, 3).map((item) => item.relativePath).join(', ')}
            {dropped.length > 3 ? ', …' : ''}
          </p>
        )}
      </div>
      {folders.length === 0 ? (
        <p className="notice notice-warn">{t('backup.noFolders')}</p>
      ) : (
        <div className="grid-form">
          <label>
            {t('backup.of')}{' '}
            <select value={folderId} onChange={(event) => setFolderId(event.target.value)}>
              {folders.map((candidate) => (
                <option key={candidate.id} value={candidate.id}>
                  {candidate.localPath} → {candidate.bucket} ({candidate.sse === 'c' ? t('backup.sseC', { key: candidate.keyName }) : t(`sse.${candidate.sse}`)})
                </option>
              ))}
            </select>
          </label>
          <label>
            {folder === undefined ? t('backup.prefixAnyBucket') : t('backup.prefixIn', { bucket: folder.bucket })}
            <input type="text" value={prefix} onChange={(event) => setPrefix(event.target.value)} aria-label={t('backup.prefix')} />
          </label>
          <div className="form-row">
            <button type="button" className="primary" disabled={dropped.length === 0 || folderId === '' || prefix.trim() === '' || status?.kind === 'busy'} onClick={() => void start()}>
              {t('backup.button')}
            </button>
          </div>
        </div>
      )}
      {status !== undefined ? (
        <p className={`notice notice-${status.kind === 'error' ? 'error' : 'info'}`} role={status.kind === 'error' ? 'alert' : 'status'}>
          {status.text}
        </p>
      ) : null}
    </section>
  );
}

/** The badge of a job's state: its colour and its words (the words, so the state is not told by colour alone). */
function jobBadge(job: JobSummary, t: TFunction): { readonly tone: string; readonly text: string } {
  switch (job.state) {
    case 'running':
      return { tone: 'syncing', text: t('jobs.running') };
    case 'failed':
      return { tone: 'error', text: t('jobs.failed') };
    case 'cancelled':
      return { tone: 'paused', text: t('jobs.cancelled') };
    case 'finished':
      return { tone: 'idle', text: job.retrieving !== undefined ? t('jobs.doneRetrieving') : t('jobs.done') };
  }
}

/** The jobs started from the window; a running one can be cancelled when `onCancel` is given. */
export function JobList({ jobs, onCancel }: { readonly jobs: ReadonlyArray<JobSummary>; readonly onCancel?: ((jobId: string) => void) | undefined }) {
  const { t } = useTranslation();
  const format = useFormat();
  if (jobs.length === 0) return null;
  return (
    <section className="panel" aria-labelledby="jobs-title">
      <h2 id="jobs-title">{jobs.every((job) => job.kind === 'rotate') ? t('jobs.rotations') : t('jobs.transfers')}</h2>
      <ul className="job-list">
        {[...jobs].reverse().map((job) => (
          <li key={job.id} data-job={job.id} data-state={job.state} className={`job job-${job.state}`}>
            <div>
              <strong>{job.title}</strong> <span className={`badge badge-${jobBadge(job, t).tone}`}>{jobBadge(job, t).text}</span>
              {job.state === 'running' && onCancel !== undefined ? (
                <>
                  {' '}
                  <button type="button" aria-label={t('jobs.cancelAria', { title: job.title })} onClick={() => onCancel(job.id)}>
                    {t('jobs.cancel')}
                  </button>
                </>
              ) : null}
            </div>
            <progress max={Math.max(1, job.bytes)} value={job.state === 'finished' ? Math.max(1, job.bytes) : job.bytesDone} aria-label={job.title} />
            <span className="muted">
              {t('jobs.files', { count: job.files, done: job.filesDone })} · {t('common.bytesOf', { done: format.bytes(job.bytesDone), total: format.bytes(job.bytes) })}
              {job.filesFailed > 0 ? ` · ${t('jobs.filesFailed', { count: job.filesFailed })}` : ''}
              {job.retrieving !== undefined ? ` · ${t('jobs.retrievingCount', { count: job.retrieving.files })}` : ''}
            </span>
            {job.retrieving !== undefined ? (
              <p className="notice" role="status" data-retrieving={job.retrieving.files}>
                {job.retrieving.files === 1 ? t('jobs.retrievingOne', { note: job.retrieving.note }) : t('jobs.retrievingMany', { note: job.retrieving.note, more: job.retrieving.files - 1 })}
              </p>
            ) : null}
            {job.error !== undefined ? (
              <p className="notice notice-error" role="alert">
                {job.error.message}
              </p>
            ) : null}
          </li>
        ))}
      </ul>
    </section>
  );
}

export function ActivityLog({ entries, errorsOnly }: { readonly entries: ReadonlyArray<ActivityEntry>; readonly errorsOnly: boolean }) {
  const { t } = useTranslation();
  const format = useFormat();
  const shown = (errorsOnly ? entries.filter((entry) => entry.level === 'error' || entry.level === 'warn') : entries).slice(-300).reverse();
  if (shown.length === 0) return <p className="muted">{errorsOnly ? t('activity.noErrors') : t('activity.empty')}</p>;
  return (
    // It scrolls, so it takes the focus: keyboard users scroll it too (axe: scrollable-region-focusable).
    <ol className="activity" aria-label={errorsOnly ? t('activity.errorsTitle') : t('activity.log')} tabIndex={0}>
      {shown.map((entry, index) => (
        <li key={`${entry.time}-${index}`} className={`level-${entry.level}`}>
          <time dateTime={entry.time}>{format.time(entry.time)}</time>{' '}
          {/* Errors and warnings say so in words, not by their colour alone. */}
          {entry.level === 'error' || entry.level === 'warn' ? <span className="level-tag">{t(`level.${entry.level}`)}</span> : null} <span className="event">{entry.event}</span>
          {entry.folder !== undefined ? <span className="muted"> [{entry.folder}]</span> : null} <span className="text">{entry.text}</span>
        </li>
      ))}
    </ol>
  );
}
