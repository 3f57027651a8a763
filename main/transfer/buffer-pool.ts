/**
 * Reusable part buffers. Every byte an upload sends passes through one of these, and the part
 * queue's concurrency bounds how many are in use, so memory stays at about concurrency × part
 * size. Reuse matters: a fresh 16 MiB Buffer per part is external memory that V8 frees only at
 * its next full GC, which let RSS grow to several times the working set (measured: 454 MB for a
 * 1 GiB upload at concurrency 8).
 */
export class BufferPool {
  readonly #free: Buffer[] = [];
  readonly #owners = new WeakMap<Buffer, Buffer>();

  constructor(private keep: number) {}

  /** How many free buffers are kept for reuse (follows the part concurrency when it changes). */
  setKeep(keep: number): void {
    this.keep = keep;
    this.#free.splice(keep);
  }

  /** A buffer of exactly `size` bytes (contents undefined); give it back with release(). */
  acquire(size: number): Buffer {
    let index = this.#free.findIndex((buffer) => buffer.length >= size);
    if (index < 0 && this.#free.length > 0) index = 0;
    let whole = index >= 0 ? (this.#free.splice(index, 1)[0] as Buffer) : undefined;
    if (whole === undefined || whole.length < size) whole = Buffer.allocUnsafeSlow(size);
    const view = whole.subarray(0, size);
    this.#owners.set(view, whole);
    return view;
  }

  /** Returns a buffer from acquire() for reuse. */
  release(view: Buffer): void {
    const whole = this.#owners.get(view);
    if (whole === undefined) return;
    this.#owners.delete(view);
    if (this.#free.length < this.keep) this.#free.push(whole);
  }
}
