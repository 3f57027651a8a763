/**
 * Live progress on a terminal: finished files scroll by as ordinary lines, and below them a block
 * redrawn at most 10 times a second shows the files in flight and the total — bytes, speed, ETA.
 * Used only when stdout is a TTY; pipes get the plain line-per-file output.
 */
import { CLI_FORMAT } from '../../app/format.js';
import type { TransferEvent } from '../../app/transfer-events.js';

const REDRAW_INTERVAL_MS = 100;
const MAX_FILE_ROWS = 5;
/** Speeds are averaged over about this window so the ETA does not jump with every part. */
const SPEED_WINDOW_MS = 5000;

interface ActiveFile {
  readonly path: string;
  readonly bytes: number;
  bytesDone: number;
  readonly startedAt: number;
}

/** Formats seconds as m:ss or h:mm:ss. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const whole = Math.round(seconds);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const secs = String(whole % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${secs}` : `${minutes}:${secs}`;
}

/** Keeps (time, total bytes) samples and answers the recent rate in bytes per second. */
export class RateMeter {
  readonly #samples: Array<{ at: number; bytes: number }> = [];

  record(at: number, totalBytes: number): void {
    this.#samples.push({ at, bytes: totalBytes });
    while (this.#samples.length > 2 && (this.#samples[0] as { at: number }).at < at - SPEED_WINDOW_MS) this.#samples.shift();
  }

  bytesPerSecond(): number {
    const first = this.#samples[0];
    const last = this.#samples.at(-1);
    if (first === undefined || last === undefined || last.at <= first.at) return 0;
    return ((last.bytes - first.bytes) * 1000) / (last.at - first.at);
  }
}

/** The terminal renderer; `plain` prints the permanent lines (finished, failed, summary). */
export class LiveProgress {
  readonly #active = new Map<string, ActiveFile>();
  readonly #rate = new RateMeter();
  #drawnLines = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #totalFiles = 0;
  #totalBytes = 0;
  #doneFiles = 0;
  #doneBytes = 0;
  #verb = 'uploading';

  constructor(
    private readonly write: (text: string) => void,
    private readonly plain: (event: TransferEvent) => void,
    private readonly columns: () => number = () => 100,
    private readonly now: () => number = Date.now,
  ) {}

  /** Consumes one event. */
  handle(event: TransferEvent): void {
    switch (event.type) {
      case 'run-started':
        this.#totalFiles = event.files;
        this.#totalBytes = event.bytes;
        this.#verb = event.direction === 'backup' ? 'uploading' : 'restoring';
        this.#rate.record(this.now(), 0);
        this.permanent(event);
        return;
      case 'file-started':
        this.#active.set(event.path, { path: event.path, bytes: event.bytes, bytesDone: 0, startedAt: this.now() });
        this.schedule();
        return;
      case 'file-progress': {
        const file = this.#active.get(event.path);
        if (file !== undefined) {
          this.#doneBytes += event.bytesDone - file.bytesDone;
          file.bytesDone = event.bytesDone;
        }
        this.#rate.record(this.now(), this.#doneBytes);
        this.schedule();
        return;
      }
      case 'file-finished':
      case 'file-failed': {
        const file = this.#active.get(event.path);
        if (file !== undefined) {
          // A failed file's bytes do not count; a finished one counts in full.
          this.#doneBytes += (event.type === 'file-finished' ? file.bytes : 0) - file.bytesDone;
          this.#active.delete(event.path);
        }
        this.#doneFiles++;
        this.permanent(event);
        return;
      }
      case 'run-finished':
        if (this.#timer !== undefined) clearTimeout(this.#timer);
        this.#timer = undefined;
        this.#active.clear();
        this.permanent(event);
        return;
      case 'file-resumed':
      case 'file-skipped':
        this.permanent(event);
        return;
    }
  }

  private permanent(event: TransferEvent): void {
    this.erase();
    this.plain(event);
    if (event.type !== 'run-finished') this.draw();
  }

  private schedule(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.erase();
      this.draw();
    }, REDRAW_INTERVAL_MS);
  }

  private erase(): void {
    // Cursor up over the block, then clear to the end of the screen.
    if (this.#drawnLines > 0) this.write(`\x1b[${this.#drawnLines}F\x1b[J`);
    this.#drawnLines = 0;
  }

  private draw(): void {
    const width = Math.max(40, this.columns());
    const lines: string[] = [];
    const files = [...this.#active.values()].sort((a, b) => a.startedAt - b.startedAt);
    for (const file of files.slice(0, MAX_FILE_ROWS)) {
      const percent = file.bytes > 0 ? Math.floor((file.bytesDone / file.bytes) * 100) : 100;
      const figures = `${CLI_FORMAT.bytes(file.bytesDone)}/${CLI_FORMAT.bytes(file.bytes)} ${String(percent).padStart(3)}%`;
      lines.push(`  ${fitPath(file.path, width - figures.length - 4)}  ${figures}`);
    }
    if (files.length > MAX_FILE_ROWS) lines.push(`  … and ${files.length - MAX_FILE_ROWS} more`);
    const speed = this.#rate.bytesPerSecond();
    const remaining = this.#totalBytes - this.#doneBytes;
    const percent = this.#totalBytes > 0 ? Math.floor((this.#doneBytes / this.#totalBytes) * 100) : 100;
    lines.push(
      `${this.#verb} ${this.#doneFiles}/${this.#totalFiles} files  ${CLI_FORMAT.bytes(this.#doneBytes)}/${CLI_FORMAT.bytes(this.#totalBytes)} ${percent}%  ${CLI_FORMAT.bytes(speed)}/s  ETA ${speed > 0 ? formatDuration(remaining / speed) : '--:--'}`.slice(0, width - 1),
    );
    this.write(`${lines.join('\n')}\n`);
    this.#drawnLines = lines.length;
  }
}

/** Shortens a path from the left to fit `width` characters. */
function fitPath(path: string, width: number): string {
  if (path.length <= width) return path.padEnd(width);
  return `…${path.slice(path.length - Math.max(1, width - 1))}`;
}
