/**
 * The window: a header with the engine's state, global pause and the bandwidth limit; then one
 * view at a time — folders, files, restore, backup, settings, activity. Every view reads the
 * EngineStore and asks the engine through the transport; nothing here holds a secret.
 */
import { useCallback, useEffect, useMemo, useState, useSyncExternalStore, type KeyboardEvent } from 'react';
import type { FolderOverview, KeySummary } from '../../app/contract.js';
import { assertNever } from '../../app/result.js';
import { EngineStore, type Connection } from './engine-store.js';
import { FileList } from './file-list.js';
import { FirstRun, type ChosenStore } from './first-run.js';
import { useTranslation } from 'react-i18next';
import { LanguagePanel } from './language.js';
import { useFormat } from './i18n.js';
import { FolderCard, FolderSelect, OverviewSummary, ThroughputGraph } from './overview.js';
import { AddFolderForm, DesktopPanel, IgnoreRulesPanel, KeysPanel, TransfersPanel } from './settings.js';
import { ActivityLog, BackupPanel, JobList, RestorePanel } from './transfers.js';
import type { Transport } from './transport.js';

/** One line saying whether the engine answered. */
export function EngineStatus({ connection, version }: { readonly connection: Connection; readonly version: string | undefined }) {
  const { t } = useTranslation();
  switch (connection.kind) {
    case 'connecting':
      return <p className="engine engine-checking">{t('engine.connecting')}</p>;
    case 'connected':
      return <p className="engine engine-connected">{t('engine.connected', { version })}</p>;
    case 'failed':
      return <p className="engine engine-disconnected">{connection.error.message}</p>;
    default:
      return assertNever(connection);
  }
}

const VIEWS = ['folders', 'files', 'restore', 'backup', 'settings', 'activity'] as const;

type View = (typeof VIEWS)[number];

/** Whether a name (e.g. the URL's #fragment) is one of the views. */
export function isView(name: string): name is View {
  return VIEWS.some((id) => id === name);
}

/**
 * The first steps for someone with nothing set up: the first-run flow (store, sign-in, bucket),
 * then the add-folder form with what it chose; the terminal's way stays as a hint.
 */
function FirstSteps({ transport, keys, onAdd, onAdded }: { readonly transport: Transport; readonly keys: ReadonlyArray<KeySummary>; readonly onAdd: () => void; readonly onAdded: () => void }) {
  const { t } = useTranslation();
  const [chosen, setChosen] = useState<ChosenStore | undefined>();
  return (
    <section className="empty-state" aria-labelledby="first-steps">
      <h2 id="first-steps">{t('first.title')}</h2>
      {chosen === undefined ? (
        <FirstRun transport={transport} onChosen={setChosen} />
      ) : (
        <>
          <p>{t('firstRun.folderTitle')}</p>
          <AddFolderForm transport={transport} keys={keys} initial={chosen} onAdded={onAdded} />
          <button type="button" onClick={() => setChosen(undefined)}>
            {t('firstRun.back')}
          </button>
        </>
      )}
      <p className="hint">
        {t('first.credentials')}{' '}
        <code>cosync credentials set --secret-id YOUR_SECRET_ID &lt; secret-key.txt</code>
      </p>
      <p className="hint">
        {t('first.key')}{' '}
        <button type="button" onClick={onAdd}>
          {t('first.addButton')}
        </button>
      </p>
      <p className="hint">
        {t('first.cli')} <code>cosync --help</code>
      </p>
    </section>
  );
}

function BandwidthControl({ limit, onChange }: { readonly limit: number | null; readonly onChange: (bytesPerSecond: number | null) => void }) {
  const { t } = useTranslation();
  const format = useFormat();
  const [text, setText] = useState(limit === null ? '' : String(limit / 1024 / 1024));
  useEffect(() => setText(limit === null ? '' : String(Math.round((limit / 1024 / 1024) * 100) / 100)), [limit]);
  const apply = (): void => {
    const value = Number(text);
    onChange(text.trim() === '' || value <= 0 || !Number.isFinite(value) ? null : Math.max(1024, Math.round(value * 1024 * 1024)));
  };
  return (
    <form
      className="bandwidth"
      onSubmit={(event) => {
        event.preventDefault();
        apply();
      }}
    >
      <label>
        {t('bandwidth.label')}{' '}
        <input type="number" min="0" step="0.1" value={text} onChange={(event) => setText(event.target.value)} placeholder={t('bandwidth.placeholder')} aria-label={t('bandwidth.aria')} />
        {t('bandwidth.unit')}
      </label>
      <button type="submit" className="small">
        {t('bandwidth.set')}
      </button>
      <span className="muted">{limit === null ? t('bandwidth.unlimited') : t('bandwidth.now', { rate: format.rate(limit) })}</span>
    </form>
  );
}

/** The app shell. */
export function App({ transport, initialView = 'folders' }: { readonly transport: Transport; readonly initialView?: View }) {
  const { t } = useTranslation();
  const store = useMemo(() => new EngineStore(transport), [transport]);
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const [view, setView] = useState<View>(initialView);
  const [filesFolder, setFilesFolder] = useState<string | undefined>();
  const [keys, setKeys] = useState<ReadonlyArray<KeySummary>>([]);
  const [notice, setNotice] = useState<string | undefined>();

  useEffect(() => {
    void store.connect();
    return () => store.dispose();
  }, [store]);

  const loadKeys = useCallback(async () => {
    const answer = await transport.call('sync:keys', null);
    if (answer.ok) setKeys(answer.value);
  }, [transport]);

  // A finished key rotation changes a key's fingerprint: the list follows.
  const rotationsEnded = snapshot.jobs.filter((job) => job.kind === 'rotate' && job.state !== 'running').length;
  useEffect(() => {
    if (snapshot.connection.kind === 'connected') void loadKeys();
  }, [snapshot.connection.kind, loadKeys, rotationsEnded]);

  const { overview } = snapshot;
  const folders = overview?.folders ?? [];
  const selectedFolder = filesFolder !== undefined && folders.some((folder) => folder.id === filesFolder) ? filesFolder : folders[0]?.id;

  const report = (answer: { ok: true } | { ok: false; error: { message: string } }): void => setNotice(answer.ok ? undefined : answer.error.message);
  const cancelJob = (jobId: string): void => void transport.call('sync:cancel-job', { jobId }).then(report);

  // The tabs as WAI-ARIA's tabs pattern has them: one tab stop, arrows (and Home/End) move and show.
  // https://www.w3.org/WAI/ARIA/apg/patterns/tabs/
  const onTabKey = (event: KeyboardEvent<HTMLElement>): void => {
    const index = VIEWS.indexOf(view);
    const moves: Record<string, number> = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: VIEWS.length - 1 };
    const target = moves[event.key];
    if (target === undefined) return;
    event.preventDefault();
    const next = VIEWS[(target + VIEWS.length) % VIEWS.length] as View;
    setView(next);
    document.getElementById(`tab-${next}`)?.focus();
  };

  const togglePauseAll = async (): Promise<void> => {
    report(await transport.call('sync:set-paused', { folderId: null, paused: !(overview?.paused ?? false) }));
    await store.refresh();
  };

  const body = (() => {
    if (snapshot.connection.kind !== 'connected' || overview === undefined) return null;
    switch (view) {
      case 'folders':
        return folders.length === 0 ? (
          <FirstSteps transport={transport} keys={keys} onAdd={() => setView('settings')} onAdded={() => void store.refresh()} />
        ) : (
          <div className="folder-grid">
            {folders.map((folder) => (
              <FolderCard
                key={folder.id}
                folder={folder}
                onOpenFiles={() => {
                  setFilesFolder(folder.id);
                  setView('files');
                }}
                onTogglePause={() => void transport.call('sync:set-paused', { folderId: folder.id, paused: folder.activity !== 'paused' }).then(report).then(() => store.refresh())}
                onRemove={() => {
                  if (window.confirm(t('folders.confirmRemove', { path: folder.localPath }))) void transport.call('sync:remove-folder', { folderId: folder.id }).then(report).then(() => store.refresh());
                }}
                onVerifyKey={() =>
                  void transport.call('sync:verify-key', { folderId: folder.id }).then((answer) =>
                    setNotice(
                      answer.ok
                        ? answer.value.mismatched.length > 0
                          ? t('folders.keyMismatch', { key: folder.keyName, count: answer.value.mismatched.length, checked: answer.value.checked, example: answer.value.mismatched[0] })
                          : answer.value.notSseC > 0
                            ? t('folders.keyMatchSomeNotSseC', { key: folder.keyName, count: answer.value.matched, notSseC: answer.value.notSseC })
                            : t('folders.keyMatch', { key: folder.keyName, count: answer.value.matched })
                        : answer.error.message,
                    ),
                  )
                }
              />
            ))}
          </div>
        );
      case 'files':
        return selectedFolder === undefined ? (
          <p className="empty-state">{t('files.noFolders')}</p>
        ) : (
          <>
            {folders.length > 1 ? (
              <label className="folder-picker">
                {t('common.folder')} <FolderSelect folders={folders} value={selectedFolder} onChange={setFilesFolder} label={t('common.folder')} />
              </label>
            ) : null}
            <FileList
              key={selectedFolder}
              store={store}
              folderId={selectedFolder}
              counts={(folders.find((folder) => folder.id === selectedFolder) as FolderOverview).counts}
              onRetry={(path) => void transport.call('sync:retry', { folderId: selectedFolder, path }).then(report)} />
          </>
        );
      case 'restore':
        return (
          <>
            <RestorePanel transport={transport} folders={folders} onStarted={(job) => store.noteJob(job)} />
            <JobList jobs={snapshot.jobs.filter((job) => job.kind === 'restore')} onCancel={cancelJob} />
          </>
        );
      case 'backup':
        return (
          <>
            <BackupPanel transport={transport} folders={folders} onStarted={(job) => store.noteJob(job)} />
            <JobList jobs={snapshot.jobs.filter((job) => job.kind === 'backup')} onCancel={cancelJob} />
          </>
        );
      case 'settings':
        return (
          <>
            <AddFolderForm
              transport={transport}
              keys={keys}
              onAdded={() => {
                void store.refresh();
                setView('folders');
              }}
            />
            <KeysPanel transport={transport} keys={keys} onChanged={() => void loadKeys()} onJob={(job) => store.noteJob(job)} />
            <JobList jobs={snapshot.jobs.filter((job) => job.kind === 'rotate')} onCancel={cancelJob} />
            <IgnoreRulesPanel transport={transport} folders={folders} />
            <TransfersPanel transport={transport} concurrency={overview.concurrency} onChanged={() => void store.refresh()} />
            <LanguagePanel />
            <DesktopPanel transport={transport} />
          </>
        );
      case 'activity':
        return (
          <div className="activity-views">
            <section className="panel" aria-labelledby="errors-title">
              <h2 id="errors-title">{t('activity.errorsTitle')}</h2>
              <ActivityLog entries={snapshot.activity} errorsOnly />
            </section>
            <section className="panel" aria-labelledby="activity-title">
              <h2 id="activity-title">{t('activity.title')}</h2>
              <ActivityLog entries={snapshot.activity} errorsOnly={false} />
            </section>
          </div>
        );
      default:
        return assertNever(view);
    }
  })();

  return (
    <main className="app" aria-labelledby="title">
      <header className="app-header">
        <div className="title-block">
          <h1 id="title" translate="no">cosync</h1>
          <div role="status" aria-live="polite" aria-label={t('engine.aria')}>
            <EngineStatus connection={snapshot.connection} version={overview?.version} />
          </div>
          {overview !== undefined ? <OverviewSummary overview={overview} /> : null}
        </div>
        {overview !== undefined ? (
          <div className="header-controls">
            <ThroughputGraph samples={overview.throughput} />
            <button type="button" onClick={() => void togglePauseAll()} aria-pressed={overview.paused} data-testid="pause-all">
              {overview.paused ? t('header.resumeAll') : t('header.pauseAll')}
            </button>
            <BandwidthControl limit={overview.bandwidthLimit} onChange={(bytesPerSecond) => void transport.call('sync:set-bandwidth', { bytesPerSecond }).then(report).then(() => store.refresh())} />
          </div>
        ) : null}
      </header>
      {snapshot.connection.kind === 'connected' ? (
        <nav className="tabs" role="tablist" aria-label={t('views.aria')} onKeyDown={onTabKey}>
          {VIEWS.map((id) => (
            <button
              key={id}
              id={`tab-${id}`}
              type="button"
              role="tab"
              aria-selected={view === id}
              aria-controls="view-panel"
              tabIndex={view === id ? 0 : -1}
              className={view === id ? 'tab active' : 'tab'}
              onClick={() => setView(id)}
            >
              {t(`views.${id}`)}
              {/* The alert is a word for screen readers and a shape, not a colour only. */}
              {id === 'activity' && folders.some((folder) => folder.counts.error > 0 || folder.problem !== undefined) ? (
                <span className="tab-alert">
                  {' '}
                  <span aria-hidden="true">⚠</span>
                  <span className="visually-hidden">{t('views.errors')}</span>
                </span>
              ) : null}
            </button>
          ))}
        </nav>
      ) : null}
      {notice !== undefined ? (
        <p className="notice notice-info" role="status" data-testid="notice">
          {notice}{' '}
          <button type="button" className="link" onClick={() => setNotice(undefined)} aria-label={t('common.dismiss')}>
            ✕
          </button>
        </p>
      ) : null}
      <div role="tabpanel" id="view-panel" {...(snapshot.connection.kind === 'connected' ? { 'aria-labelledby': `tab-${view}` } : { 'aria-label': t(`views.${view}`) })}>
        {body}
      </div>
    </main>
  );
}
