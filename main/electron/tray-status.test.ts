/** The tray's state, tooltip, menu and notifications follow the engine's overview; the icon is drawn in code. */
import { describe, expect, it } from 'vitest';
import type { FolderOverview, JobSummary, Overview } from '../../app/contract.js';
import { createShellText } from './shell-text.js';
import { NotificationPolicy, trayIconBitmap, trayMenu, trayStateOf, trayTooltip } from './tray-status.js';

const counts = { queued: 0, hashing: 0, uploading: 0, verifying: 0, synced: 10, error: 0, ignored: 0, conflict: 0 };

function folder(change: Partial<FolderOverview> = {}): FolderOverview {
  return {
    id: 'docs-1a2b',
    localPath: '/home/me/Docs',
    endpoint: 'https://cos.ap-guangzhou.myqcloud.com',
    bucket: 'b-1250000000',
    prefix: 'docs/',
    sse: 'c',
    keyName: 'docs',
    policy: 'keep',
    activity: 'idle',
    problem: undefined,
    degraded: undefined,
    counts,
    bytesTotal: 100,
    bytesPending: 0,
    bytesPerSecond: 0,
    etaSeconds: undefined,
    ...change,
  };
}

function overview(folders: FolderOverview[], paused = false): Overview {
  return { version: '1', paused, bandwidthLimit: null, concurrency: { files: 8, parts: 8 }, folders, throughput: [] };
}

describe('tray state', () => {
  it.each<[string, Overview | undefined, string]>([
    ['before the engine answers', undefined, 'idle'],
    ['no folders', overview([]), 'idle'],
    ['all up to date', overview([folder(), folder({ id: 'b' })]), 'idle'],
    ['one folder syncing', overview([folder(), folder({ id: 'b', activity: 'syncing', counts: { ...counts, queued: 3 } })]), 'syncing'],
    ['scanning counts as syncing', overview([folder({ activity: 'scanning' })]), 'syncing'],
    ['paused globally', overview([folder({ activity: 'paused' })], true), 'paused'],
    ['every folder paused', overview([folder({ activity: 'paused' }), folder({ id: 'b', activity: 'paused' })]), 'paused'],
    ['one paused, one syncing', overview([folder({ activity: 'paused' }), folder({ id: 'b', activity: 'syncing' })]), 'syncing'],
    ['a failing file beats syncing', overview([folder({ activity: 'syncing', counts: { ...counts, error: 1 } })]), 'error'],
    ['a folder problem beats paused', overview([folder({ activity: 'error', problem: { code: 'path-not-found', message: '/home/me/Docs is missing' } })], true), 'error'],
  ])('%s → %s', (_name, value, expected) => {
    expect(trayStateOf(value)).toBe(expected);
  });

  it('says what is going on in the tooltip and the menu', () => {
    expect(trayTooltip(overview([folder({ activity: 'syncing', counts: { ...counts, queued: 2, uploading: 1 } })]))).toBe('cosync — syncing 3 files');
    expect(trayTooltip(overview([folder({ activity: 'error', problem: { code: 'credentials-rejected', message: 'the store refused the credentials' } })]))).toBe(
      'cosync — needs attention: the store refused the credentials',
    );
    expect(trayTooltip(overview([folder({ counts: { ...counts, error: 1 } })]))).toBe('cosync — needs attention: 1 file failing');
    expect(trayMenu(overview([folder()], true)).map((item) => item.label)).toEqual(['paused', 'Open cosync', 'Resume syncing', 'Quit cosync']);
    expect(trayMenu(undefined).find((item) => item.id === 'toggle-pause')?.enabled).toBe(false);
  });
});

describe('in the system’s language', () => {
  const chinese = createShellText('zh-CN');

  it('speaks Chinese on a Chinese system, with its own plural form, and English otherwise', () => {
    expect(trayTooltip(overview([folder({ activity: 'syncing', counts: { ...counts, queued: 1 } })]), chinese)).toBe('cosync — 正在同步 1 个文件');
    expect(trayTooltip(overview([folder({ activity: 'syncing', counts: { ...counts, queued: 1200 } })]), chinese)).toBe('cosync — 正在同步 1,200 个文件');
    expect(trayMenu(overview([folder()], true), chinese).map((item) => item.label)).toEqual(['已暂停', '打开 cosync', '继续同步', '退出 cosync']);
    expect(trayMenu(undefined, createShellText('zh-TW')).find((item) => item.id === 'open')?.label).toBe('打开 cosync');
    expect(trayMenu(undefined, createShellText('fr-FR')).find((item) => item.id === 'open')?.label).toBe('Open cosync');
  });

  it('words notifications in Chinese; the engine’s own message stays as sent', () => {
    const policy = new NotificationPolicy(chinese);
    expect(policy.onOverview(overview([folder({ activity: 'error', problem: { code: 'path-not-found', message: 'missing' } })]))).toEqual([{ title: 'cosync：/home/me/Docs 需要处理', body: 'missing' }]);
    const job: JobSummary = { id: 'r-1', kind: 'restore', title: 'Restore photos', state: 'finished', filesDone: 3, filesFailed: 0, files: 3, bytesDone: 9, bytes: 9, error: undefined, startedAt: 0 };
    expect(policy.onJob(job)).toEqual([{ title: '恢复完成', body: 'Restore photos：3 个文件，已校验。' }]);
  });
});

describe('notifications', () => {
  it('announces a folder problem once, and again only when it changes', () => {
    const policy = new NotificationPolicy();
    const broken = overview([folder({ activity: 'error', problem: { code: 'path-not-found', message: 'missing' } })]);
    expect(policy.onOverview(broken)).toEqual([{ title: 'cosync: /home/me/Docs needs attention', body: 'missing' }]);
    expect(policy.onOverview(broken)).toEqual([]);
    expect(policy.onOverview(overview([folder()]))).toEqual([]);
    expect(policy.onOverview(broken)).toHaveLength(1);
    // Failing files alone do not interrupt anyone: the window lists them.
    expect(policy.onOverview(overview([folder({ counts: { ...counts, error: 5 } })]))).toEqual([]);
  });

  it('announces the end of a backup or restore once', () => {
    const policy = new NotificationPolicy();
    const job: JobSummary = { id: 'backup-1', kind: 'backup', title: 'Back up photos', state: 'running', filesDone: 0, filesFailed: 0, files: 2, bytesDone: 0, bytes: 10, error: undefined, startedAt: 0 };
    expect(policy.onJob(job)).toEqual([]);
    expect(policy.onJob({ ...job, state: 'finished', filesDone: 2 })).toEqual([{ title: 'Backup finished', body: 'Back up photos: 2 files, verified.' }]);
    expect(policy.onJob({ ...job, state: 'finished', filesDone: 2 })).toEqual([]);
    expect(policy.onJob({ ...job, id: 'restore-2', kind: 'restore', state: 'failed', error: { code: 'key-mismatch', message: 'wrong key' } })).toEqual([{ title: 'Restore failed', body: 'Back up photos: wrong key' }]);
  });
});

describe('tray icon', () => {
  it('is a dot in the state colour on transparency', () => {
    const size = 16;
    const pixels = trayIconBitmap('error', size);
    expect(pixels).toHaveLength(size * size * 4);
    const at = (x: number, y: number) => [...pixels.subarray((y * size + x) * 4, (y * size + x) * 4 + 4)];
    expect(at(8, 8)).toEqual([0x1c, 0x2b, 0xc4, 255]); // BGRA, opaque in the middle
    expect(at(0, 0)[3]).toBe(0); // transparent corner
    expect(trayIconBitmap('idle', size).equals(pixels)).toBe(false);
  });
});
