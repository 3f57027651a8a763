/**
 * What the tray and desktop notifications show, as pure functions of the engine's overview and
 * job events — so they are tested without Electron — plus the tray icon drawn in code (a dot in
 * the state's colour), so no image files need to ship for it.
 */
import type { JobSummary, Overview } from '../../app/contract.js';
import { ENGLISH_SHELL_TEXT, type ShellText } from './shell-text.js';

/** The one state the tray shows for the whole app. */
export type TrayState = 'idle' | 'syncing' | 'paused' | 'error';

/** Errors beat everything (they need the user); then paused, then syncing. */
export function trayStateOf(overview: Overview | undefined): TrayState {
  if (overview === undefined) return 'idle';
  if (overview.folders.some((folder) => folder.activity === 'error' || folder.counts.error > 0)) return 'error';
  if (overview.paused || (overview.folders.length > 0 && overview.folders.every((folder) => folder.activity === 'paused'))) return 'paused';
  if (overview.folders.some((folder) => folder.activity === 'syncing' || folder.activity === 'scanning')) return 'syncing';
  return 'idle';
}

/** The tray's tooltip: the state in words. */
export function trayTooltip(overview: Overview | undefined, text: ShellText = ENGLISH_SHELL_TEXT): string {
  const state = trayStateOf(overview);
  const folders = overview?.folders ?? [];
  if (folders.length === 0) return text('tooltip.noFolders');
  switch (state) {
    case 'error': {
      const failing = folders.reduce((sum, folder) => sum + folder.counts.error, 0);
      const problem = folders.find((folder) => folder.problem !== undefined)?.problem?.message;
      return problem !== undefined ? text('tooltip.problem', { problem }) : text('tooltip.failing', { count: failing });
    }
    case 'paused':
      return text('tooltip.paused');
    case 'syncing': {
      const pending = folders.reduce((sum, folder) => sum + folder.counts.queued + folder.counts.hashing + folder.counts.uploading + folder.counts.verifying, 0);
      return text('tooltip.syncing', { count: pending });
    }
    case 'idle':
      return text('tooltip.idle');
  }
}

/** The tray menu, as plain items (the shell turns them into an Electron Menu). */
export interface TrayMenuItem {
  readonly id: 'open' | 'toggle-pause' | 'quit' | 'status';
  readonly label: string;
  readonly enabled: boolean;
}

export function trayMenu(overview: Overview | undefined, text: ShellText = ENGLISH_SHELL_TEXT): TrayMenuItem[] {
  return [
    { id: 'status', label: trayTooltip(overview, text).replace(/^cosync — /, ''), enabled: false },
    { id: 'open', label: text('menu.open'), enabled: true },
    { id: 'toggle-pause', label: overview?.paused === true ? text('menu.resume') : text('menu.pause'), enabled: overview !== undefined },
    { id: 'quit', label: text('menu.quit'), enabled: true },
  ];
}

/** A desktop notification to show. */
export interface ShellNotification {
  readonly title: string;
  readonly body: string;
}

/**
 * Notifications worth interrupting someone for: a folder that starts needing attention (not
 * every failing file — those are in the window), and a backup or restore that ends. Each is
 * shown once, on the change.
 */
export class NotificationPolicy {
  #problems = new Map<string, string>();
  readonly #finishedJobs = new Set<string>();

  constructor(private readonly text: ShellText = ENGLISH_SHELL_TEXT) {}

  onOverview(overview: Overview): ShellNotification[] {
    const notes: ShellNotification[] = [];
    const next = new Map<string, string>();
    for (const folder of overview.folders) {
      if (folder.problem === undefined) continue;
      next.set(folder.id, folder.problem.message);
      if (this.#problems.get(folder.id) !== folder.problem.message) notes.push({ title: this.text('notify.problem', { path: folder.localPath }), body: folder.problem.message });
    }
    this.#problems = next;
    return notes;
  }

  onJob(job: JobSummary): ShellNotification[] {
    if (job.state === 'running' || this.#finishedJobs.has(job.id)) return [];
    this.#finishedJobs.add(job.id);
    if (job.state === 'finished') return [{ title: this.text(`notify.${job.kind}Finished`), body: this.text('notify.finishedBody', { title: job.title, count: job.filesDone }) }];
    const message = job.error?.message ?? this.text('notify.filesFailed', { count: job.filesFailed });
    return [{ title: this.text(`notify.${job.kind}Failed`), body: this.text('notify.failedBody', { title: job.title, message }) }];
  }
}

const STATE_COLOURS: Readonly<Record<TrayState, readonly [number, number, number]>> = {
  idle: [0x17, 0x70, 0x3a],
  syncing: [0x0a, 0x5f, 0xc4],
  paused: [0x80, 0x84, 0x8a],
  error: [0xc4, 0x2b, 0x1c],
};

/**
 * The tray icon: an anti-aliased dot in the state's colour on transparency, as BGRA pixels
 * (nativeImage.createFromBitmap's format), `size` pixels square.
 */
export function trayIconBitmap(state: TrayState, size: number): Buffer {
  const [red, green, blue] = STATE_COLOURS[state];
  const pixels = Buffer.alloc(size * size * 4);
  const centre = (size - 1) / 2;
  const radius = size * 0.42;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const distance = Math.hypot(x - centre, y - centre);
      // Coverage of the pixel by the disc: 1 inside, 0 outside, a linear ramp across the edge.
      const coverage = Math.max(0, Math.min(1, radius - distance + 0.5));
      const offset = (y * size + x) * 4;
      pixels[offset] = blue;
      pixels[offset + 1] = green;
      pixels[offset + 2] = red;
      pixels[offset + 3] = Math.round(coverage * 255);
    }
  }
  return pixels;
}
