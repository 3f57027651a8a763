/**
 * Every file of a folder with its state, progress, last change and error (with Retry); filter by
 * state, search by path, sort. Virtualized: only the rows in view exist in the DOM, so 100,000
 * files scroll like 100. Keyboard: arrows, Page Up/Down, Home/End move the selection; Enter
 * retries a failing file.
 */
import { useDeferredValue, useMemo, useRef, useState, useSyncExternalStore, type KeyboardEvent, type UIEvent } from 'react';
import { FILE_STATE_NAMES, type FileStateName, type FileStatus, type StateCounts } from '../../app/sync-status.js';
import type { EngineStore } from './engine-store.js';
import { useTranslation } from 'react-i18next';
import { useFormat } from './i18n.js';

export const ROW_HEIGHT = 34;
const OVERSCAN = 8;

type SortKey = 'path' | 'state' | 'changed';

const STATE_ORDER: Readonly<Record<FileStateName, number>> = { error: 0, conflict: 1, uploading: 2, verifying: 3, hashing: 4, queued: 5, synced: 6, ignored: 7 };

export function FileList({ store, folderId, counts, onRetry }: { readonly store: EngineStore; readonly folderId: string; readonly counts: StateCounts; readonly onRetry: (path: string) => void }) {
  useSyncExternalStore(store.subscribe, store.getSnapshot);
  const { t } = useTranslation();
  const format = useFormat();
  const files = store.files(folderId);
  const [filter, setFilter] = useState<FileStateName | 'all'>('all');
  const [search, setSearch] = useState('');
  const deferredSearch = useDeferredValue(search.trim().toLowerCase());
  const [sort, setSort] = useState<SortKey>('path');
  const [selected, setSelected] = useState(0);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(600);
  const scroller = useRef<HTMLDivElement>(null);

  // Filtering and sorting by path need only the path order and, for a filter, each status;
  // sorting by state or time is redone as statuses change (only when chosen).
  const rows = useMemo(() => {
    let paths: ReadonlyArray<string> = files.sortedPaths;
    if (deferredSearch !== '') paths = paths.filter((path) => path.toLowerCase().includes(deferredSearch));
    if (filter !== 'all') paths = paths.filter((path) => files.byPath.get(path)?.status.state === filter);
    if (sort === 'state') paths = [...paths].sort((a, b) => STATE_ORDER[stateOf(files.byPath.get(a))] - STATE_ORDER[stateOf(files.byPath.get(b))]);
    if (sort === 'changed') paths = [...paths].sort((a, b) => (files.byPath.get(b)?.changedAt ?? 0) - (files.byPath.get(a)?.changedAt ?? 0));
    return paths;
    // Sorting and filtering by state follow status changes; the path order alone does not.
  }, [files.sortedPaths, files.byPath, deferredSearch, filter, sort, filter !== 'all' || sort !== 'path' ? files.version : 0]);

  // The selection stays on a row when a filter, a search or the engine leaves fewer rows.
  const active = Math.min(selected, Math.max(0, rows.length - 1));
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((scrollTop + viewport) / ROW_HEIGHT) + OVERSCAN);
  const now = Date.now();

  const onScroll = (event: UIEvent<HTMLDivElement>): void => {
    setScrollTop(event.currentTarget.scrollTop);
    setViewport(event.currentTarget.clientHeight || 600);
  };

  const moveTo = (index: number): void => {
    const next = Math.max(0, Math.min(rows.length - 1, index));
    setSelected(next);
    const element = scroller.current;
    if (element === null) return;
    const top = next * ROW_HEIGHT;
    if (top < element.scrollTop) element.scrollTop = top;
    else if (top + ROW_HEIGHT > element.scrollTop + element.clientHeight) element.scrollTop = top + ROW_HEIGHT - element.clientHeight;
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>): void => {
    const page = Math.max(1, Math.floor(viewport / ROW_HEIGHT) - 1);
    const moves: Record<string, number> = { ArrowDown: active + 1, ArrowUp: active - 1, PageDown: active + page, PageUp: active - page, Home: 0, End: rows.length - 1 };
    const target = moves[event.key];
    if (target !== undefined) {
      event.preventDefault();
      moveTo(target);
    } else if (event.key === 'Enter') {
      const path = rows[active];
      if (path !== undefined && files.byPath.get(path)?.status.state === 'error') onRetry(path);
    }
  };

  if (files.error !== undefined) return <p className="notice notice-error">{files.error.message}</p>;

  return (
    <section className="file-list" aria-label={t('views.files')}>
      <div className="toolbar" role="toolbar" aria-label={t('files.toolbar')}>
        <label>
          <span className="visually-hidden">{t('files.search')}</span>
          <input type="search" placeholder={t('files.search')} value={search} onChange={(event) => setSearch(event.target.value)} aria-label={t('files.search')} />
        </label>
        <label>
          {t('files.show')}{' '}
          <select value={filter} onChange={(event) => setFilter(event.target.value as FileStateName | 'all')} aria-label={t('files.filter')}>
            {/* Counts from the engine's overview (kept per state as states change), not a pass over every row. */}
            <option value="all">{t('files.all', { count: files.byPath.size })}</option>
            {FILE_STATE_NAMES.map((name) => (
              <option key={name} value={name}>
                {t(`state.${name}`)} ({format.number(counts[name])})
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('files.sortBy')}{' '}
          <select value={sort} onChange={(event) => setSort(event.target.value as SortKey)} aria-label={t('files.sort')}>
            <option value="path">{t('files.sortPath')}</option>
            <option value="state">{t('files.sortState')}</option>
            <option value="changed">{t('files.sortChanged')}</option>
          </select>
        </label>
        <span className="muted" aria-live="polite">
          {files.loaded ? t('files.shown', { count: rows.length }) : t('files.loading')}
        </span>
      </div>
      <div
        ref={scroller}
        className="rows"
        role="grid"
        aria-rowcount={rows.length}
        aria-label={t('files.grid')}
        aria-activedescendant={rows.length > 0 ? `file-row-${active}` : undefined}
        tabIndex={0}
        onScroll={onScroll}
        onKeyDown={onKeyDown}
        data-testid="file-rows"
      >
        {files.loaded && rows.length === 0 ? (
          <p className="empty-rows">{files.byPath.size === 0 ? t('files.none') : t('files.noMatch')}</p>
        ) : null}
        <div style={{ height: rows.length * ROW_HEIGHT, position: 'relative' }}>
          {rows.slice(first, last).map((path, offset) => {
            const index = first + offset;
            return (
              <FileRow
                key={path}
                index={index}
                status={files.byPath.get(path)}
                rate={files.rates.get(path)}
                path={path}
                selected={index === active}
                now={now}
                onRetry={onRetry}
                onSelect={() => setSelected(index)}
              />
            );
          })}
        </div>
      </div>
    </section>
  );
}

function stateOf(status: FileStatus | undefined): FileStateName {
  return status?.status.state ?? 'queued';
}

function FileRow({
  index,
  path,
  status,
  rate,
  selected,
  now,
  onRetry,
  onSelect,
}: {
  readonly index: number;
  readonly path: string;
  readonly status: FileStatus | undefined;
  readonly rate: number | undefined;
  readonly selected: boolean;
  readonly now: number;
  readonly onRetry: (path: string) => void;
  readonly onSelect: () => void;
}) {
  const { t } = useTranslation();
  const format = useFormat();
  const state = status?.status;
  const name = state?.state ?? 'queued';
  return (
    <div
      id={`file-row-${index}`}
      role="row"
      aria-rowindex={index + 1}
      aria-selected={selected}
      className={`row state-${name}${selected ? ' selected' : ''}`}
      style={{ transform: `translateY(${index * ROW_HEIGHT}px)` }}
      onClick={onSelect}
      data-path={path}
      data-state={name}
    >
      <span role="gridcell" className="cell-state">
        <span className={`dot dot-${name}`} aria-hidden="true" />
        {t(`state.${name}`)}
      </span>
      <span role="gridcell" className="cell-path" title={path}>
        {path}
      </span>
      <span role="gridcell" className="cell-detail">
        {state?.state === 'uploading' ? (
          <>
            <progress max={Math.max(1, state.bytesTotal)} value={state.bytesDone} aria-label={t('files.uploadingAria', { path })} />
            <span className="muted">
              {t('common.bytesOf', { done: format.bytes(state.bytesDone), total: format.bytes(state.bytesTotal) })}
              {rate !== undefined && rate > 0 ? ` · ${format.rate(rate)}` : ''}
            </span>
          </>
        ) : state?.state === 'error' ? (
          <>
            <span className="error-text" title={state.message}>
              {state.message}
              {state.retryAt !== null ? ` — ${state.retryAt - now < 10_000 ? t('files.retryingNow') : t('files.retryingAt', { time: format.time(state.retryAt) })}` : ''}
            </span>
            <button type="button" className="small" onClick={() => onRetry(path)} aria-label={t('files.retryAria', { path })}>
              {t('files.retry')}
            </button>
          </>
        ) : state?.state === 'conflict' ? (
          <span className="warn-text" title={state.message}>
            {state.message}
          </span>
        ) : state?.state === 'ignored' ? (
          <span className="muted">{state.reason}</span>
        ) : status !== undefined ? (
          <span className="muted">{state?.state === 'synced' ? t('files.syncedAgo', { ago: format.ago(status.changedAt, now) }) : format.ago(status.changedAt, now)}</span>
        ) : null}
      </span>
    </div>
  );
}
