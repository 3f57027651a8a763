/**
 * Throughput for the overview: bytes sent across all folders once a second (the graph), and per
 * folder the bytes-sent counter at each of the last few samples (its speed and ETA).
 */

/** Throughput samples kept for the overview's graph: one a second. */
const THROUGHPUT_SAMPLES = 300;
/** Seconds averaged for the current speed (and the ETA). */
const SPEED_WINDOW = 5;

export class ThroughputSampler {
  /** Bytes sent across all folders, sampled once a second. */
  readonly #throughput: number[] = [];
  /** Per folder: the bytes-sent counter at each of the last samples. */
  readonly #sentSamples = new Map<string, number[]>();
  #lastSentTotal = 0;

  /** Takes one sample of every folder's bytes-sent counter. */
  sample(sentByFolder: ReadonlyArray<{ readonly folderId: string; readonly sent: number }>): void {
    let total = 0;
    for (const { folderId, sent } of sentByFolder) {
      total += sent;
      const samples = this.#sentSamples.get(folderId) ?? [];
      samples.push(sent);
      if (samples.length > SPEED_WINDOW + 1) samples.shift();
      this.#sentSamples.set(folderId, samples);
    }
    this.#throughput.push(Math.max(0, total - this.#lastSentTotal));
    if (this.#throughput.length > THROUGHPUT_SAMPLES) this.#throughput.shift();
    this.#lastSentTotal = total;
  }

  /** Bytes sent in each second of the last few minutes, oldest first. */
  history(): number[] {
    return [...this.#throughput];
  }

  /** A folder's speed over the last few samples, bytes per second. */
  bytesPerSecond(folderId: string): number {
    const samples = this.#sentSamples.get(folderId) ?? [];
    return samples.length < 2 ? 0 : ((samples.at(-1) as number) - (samples[0] as number)) / (samples.length - 1);
  }

  /** Forgets a removed folder. */
  forget(folderId: string): void {
    this.#sentSamples.delete(folderId);
  }
}
