/**
 * How transfer events look on a terminal or in a pipe: one line per finished, failed or skipped
 * file and a summary (human), or one JSON object per event (`--json`).
 */
import { CLI_FORMAT } from '../../app/format.js';
import { describeRetrieving, type TransferEvent } from '../../app/transfer-events.js';
import type { SessionIo } from '../engine/session.js';
import { LiveProgress } from './live-progress.js';

/** Builds the event sink for a run: JSON lines, live terminal progress, or plain lines. */
export function transferPrinter(io: SessionIo, json: boolean): (event: TransferEvent) => void {
  if (json) return (event) => void io.stdout.write(`${JSON.stringify(event)}\n`);
  if (io.stdout.isTTY !== true) return plainPrinter(io);
  const stdout = io.stdout as { write(text: string): unknown; columns?: number };
  // On a terminal, permanent lines go out at once: they must land above the redrawn block.
  const live = new LiveProgress((text) => void stdout.write(text), linePrinter(stdout), () => stdout.columns ?? 100);
  return (event) => live.handle(event);
}

/** How long plain output may wait to be written with the lines after it. */
const PLAIN_FLUSH_MS = 100;

/**
 * One line per finished, failed, resumed or skipped file, and a summary. Lines are written in
 * batches: writes to a pipe are synchronous in Node on Linux, and one write per file cost about
 * 0.1 ms of CPU each when backing up thousands of small files.
 */
function plainPrinter(io: SessionIo): (event: TransferEvent) => void {
  let pending = '';
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (pending !== '') io.stdout.write(pending);
    pending = '';
  };
  const print = linePrinter({
    write: (text: string): void => {
      pending += text;
      if (pending.length > 16 * 1024) flush();
      else timer ??= setTimeout(flush, PLAIN_FLUSH_MS);
    },
  });
  return (event) => {
    print(event);
    if (event.type === 'run-finished') flush();
  };
}

function linePrinter(io: { write(text: string): unknown }): (event: TransferEvent) => void {
  return (event) => {
    switch (event.type) {
      case 'run-started':
        io.write(`${event.direction === 'backup' ? 'uploading' : 'restoring'} ${event.files} file${event.files === 1 ? '' : 's'} (${CLI_FORMAT.bytes(event.bytes)})\n`);
        return;
      case 'file-resumed':
        io.write(`resumed: ${event.partsDone} of ${event.partCount} parts already uploaded  ${event.path}\n`);
        return;
      case 'file-finished':
        io.write(`${event.result.padEnd(9)} ${event.path} -> ${event.key}  ${CLI_FORMAT.bytes(event.bytes)}  (${event.detail})\n`);
        return;
      case 'file-failed':
        io.write(`failed    ${event.path}${event.key === '' ? '' : ` -> ${event.key}`}: ${event.error.message}\n`);
        return;
      case 'file-retrieving':
        io.write(`archived  ${event.path} <- ${event.key}: ${describeRetrieving(event)}\n`);
        return;
      case 'file-skipped':
        io.write(`skipped   ${event.path}: ${event.reason}\n`);
        return;
      case 'run-finished': {
        const verb = event.direction === 'backup' ? 'uploaded' : 'restored';
        const rate = event.seconds > 0 ? `, ${CLI_FORMAT.bytes(event.bytes / event.seconds)}/s` : '';
        io.write(
          `${event.direction}: ${event.succeeded} ${verb}, ${event.failed} failed${event.skipped > 0 ? `, ${event.skipped} skipped` : ''}; ${CLI_FORMAT.bytes(event.bytes)} in ${event.seconds.toFixed(1)} s${rate}\n`,
        );
        const retrieving = event.retrieving ?? 0;
        if (retrieving > 0) {
          io.write(`restore: ${retrieving} archived file${retrieving === 1 ? ' is' : 's are'} still being retrieved: run the same restore again later (or pass --wait) to download ${retrieving === 1 ? 'it' : 'them'}\n`);
        }
        return;
      }
      case 'file-started':
      case 'file-progress':
        return;
    }
  };
}
