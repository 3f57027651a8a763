/**
 * The window: a header with the engine's state, global pause and the bandwidth limit; then one
 * view at a time — folders, files, restore, backup, settings, activity. Every view reads the
 * EngineStore and asks the engine through the transport; nothing here holds a secret.
 */
import { useCallback, useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import type { FolderOverview, KeySummary } from '../../app/contract.js';
import { assertNever } from '../../app/result.js';
import { EngineStore, type Connection } from './engine-store.js';
import { FileList } from './file-list.js';
import { formatRate } from './format.js';
import { FolderCard, FolderSelect, OverviewSummary, ThroughputGraph } from './overview.js';
import { AddFolderForm, DesktopPanel, IgnoreRulesPanel, KeysPanel, TransfersPanel } from './settings.js';
import { ActivityLog, BackupPanel, JobList, RestorePanel } from './transfers.js';
import type { Transport } from './transport.js';

/** One line saying whether the engine answered. */
export function EngineStatus({ connection, version }: { readonly connection: Connection; readonly version: string | undefined }) {
  switch (connection.kind) {
    case 'connecting':
      return <p className="engine engine-checking">Connecting to the engine…</p>;
    case 'connected':
      return <p className="engine engine-connected">Connected to engine {version}</p>;
    case 'failed':
      return <p className="engine engine-disconnected">{connection.error.message}</p>;
    default:
      return assertNever(connection);
  }
}

const VIEWS = [
  ['folders', 'Folders'],
  ['files', 'Files'],
  ['restore', 'Restore'],
  ['backup', 'Backup'],
  ['settings', 'Settings'],
  ['activity', 'Activity'],
] as const;

type View = (typeof VIEWS)[number][0];

/** Whether a name (e.g. the URL's #fragment) is one of the views. */
export function isView(name: string): name is View {
  return VIEWS.some(([id]) => id === name);
}

/** The first steps for someone with nothing set up, as the window and the CLI both do them. */
function FirstSteps({ onAdd }: { readonly onAdd: () => void }) {
  return (
    <section className="empty-state" aria-labelledby="first-steps">
      <h2 id="first-steps">No sync folders yet</h2>
      <ol className="steps">
        <li>
          Store your COS SecretId and SecretKey (or S3 access keys) in the system keychain — from a terminal, so the secret never passes through this window:
          <pre>
            <code>cosync credentials set --secret-id YOUR_SECRET_ID &lt; secret-key.txt</code>
          </pre>
        </li>
        <li>To encrypt with a key only you hold (SSE-C), generate one under Settings and export its recovery kit. Without the kit, a lost key means lost data.</li>
        <li>
          Add a folder: choose the local folder, the bucket and the encryption.{' '}
          <button type="button" className="primary" onClick={onAdd}>
            Add a sync folder
          </button>
        </li>
      </ol>
      <p className="hint">
        Or drop files on the Backup view to back them up once. Everything here can also be done from the command line: <code>cosync --help</code>.
      </p>
    </section>
  );
}

function BandwidthControl({ limit, onChange }: { readonly limit: number | null; readonly onChange: (bytesPerSecond: number | null) => void }) {
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
        Upload limit{' '}
        <input type="number" min="0" step="0.1" value={text} onChange={(event) => setText(event.target.value)} placeholder="none" aria-label="Upload limit in MiB per second (empty: none)" />
        MiB/s
      </label>
      <button type="submit" className="small">
        Set
      </button>
      <span className="muted">{limit === null ? 'unlimited' : `now ${formatRate(limit)}`}</span>
    </form>
  );
}

/** The app shell. */
export function App({ transport, initialView = 'folders' }: { readonly transport: Transport; readonly initialView?: View }) {
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

  const togglePauseAll = async (): Promise<void> => {
    report(await transport.call('sync:set-paused', { folderId: null, paused: !(overview?.paused ?? false) }));
    await store.refresh();
  };

  const body = (() => {
    if (snapshot.connection.kind !== 'connected' || overview === undefined) return null;
    switch (view) {
      case 'folders':
        return folders.length === 0 ? (
          <FirstSteps onAdd={() => setView('settings')} />
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
                  if (window.confirm(`Stop syncing ${folder.localPath}? Nothing is deleted, here or in the bucket.`)) void transport.call('sync:remove-folder', { folderId: folder.id }).then(report).then(() => store.refresh());
                }}
                onVerifyKey={() =>
                  void transport.call('sync:verify-key', { folderId: folder.id }).then((answer) =>
                    setNotice(
                      answer.ok
                        ? answer.value.mismatched.length > 0
                          ? `Key ${folder.keyName} does NOT decrypt ${answer.value.mismatched.length} of ${answer.value.checked} checked objects (e.g. ${answer.value.mismatched[0]}).`
                          : `Key ${folder.keyName} decrypts all ${answer.value.matched} checked objects${answer.value.notSseC > 0 ? ` (${answer.value.notSseC} were not SSE-C)` : ''}.`
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
          <p className="empty-state">No sync folders yet: add one under Settings.</p>
        ) : (
          <>
            {folders.length > 1 ? (
              <label className="folder-picker">
                Folder <FolderSelect folders={folders} value={selectedFolder} onChange={setFilesFolder} label="Folder" />
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
            <DesktopPanel transport={transport} />
          </>
        );
      case 'activity':
        return (
          <div className="activity-views">
            <section className="panel" aria-labelledby="errors-title">
              <h2 id="errors-title">Errors and warnings</h2>
              <ActivityLog entries={snapshot.activity} errorsOnly />
            </section>
            <section className="panel" aria-labelledby="activity-title">
              <h2 id="activity-title">Activity</h2>
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
          <h1 id="title">cosync</h1>
          <div role="status" aria-live="polite" aria-label="Engine connection">
            <EngineStatus connection={snapshot.connection} version={overview?.version} />
          </div>
          {overview !== undefined ? <OverviewSummary overview={overview} /> : null}
        </div>
        {overview !== undefined ? (
          <div className="header-controls">
            <ThroughputGraph samples={overview.throughput} />
            <button type="button" onClick={() => void togglePauseAll()} aria-pressed={overview.paused} data-testid="pause-all">
              {overview.paused ? 'Resume all' : 'Pause all'}
            </button>
            <BandwidthControl limit={overview.bandwidthLimit} onChange={(bytesPerSecond) => void transport.call('sync:set-bandwidth', { bytesPerSecond }).then(report).then(() => store.refresh())} />
          </div>
        ) : null}
      </header>
      {snapshot.connection.kind === 'connected' ? (
        <nav className="tabs" role="tablist" aria-label="Views">
          {VIEWS.map(([id, label]) => (
            <button key={id} type="button" role="tab" aria-selected={view === id} className={view === id ? 'tab active' : 'tab'} onClick={() => setView(id)}>
              {label}
              {id === 'activity' && folders.some((folder) => folder.counts.error > 0 || folder.problem !== undefined) ? <span className="tab-alert" aria-label="(errors)"> ●</span> : null}
            </button>
          ))}
        </nav>
      ) : null}
      {notice !== undefined ? (
        <p className="notice notice-info" role="status" data-testid="notice">
          {notice}{' '}
          <button type="button" className="link" onClick={() => setNotice(undefined)} aria-label="Dismiss">
            ✕
          </button>
        </p>
      ) : null}
      <div role="tabpanel" aria-label={VIEWS.find(([id]) => id === view)?.[1]}>
        {body}
      </div>
    </main>
  );
}
