/**
 * A session's outgoing queue (centrifuge's client queue): frames go straight to the socket while it keeps
 * up; when the socket's own buffer passes a high-water mark they wait here, bounded in bytes and in count,
 * and are flushed on drain. A frame with a collapse key replaces the queued frame with the same key (the
 * latest location of a delivery supersedes the one not yet sent). Past either bound the writer gives up:
 * the session is closed as too slow, and the client resumes from its last cursor without loss.
 */

/** One message for the peer: text, or its UTF-8 bytes (built once per group and spliced, see live-groups.ts). */
export type Frame = string | Buffer;

/** What a transport offers the writer; implemented by the WebSocket and SSE adapters. */
export interface FrameSink {
  /** Hands one frame to the socket. */
  write(frame: Frame): void;
  /** Bytes the socket holds that the peer has not taken yet. */
  bufferedBytes(): number;
  /** Calls `listener` once, when the socket can take more. */
  onceDrained(listener: () => void): void;
}

export interface WriterOptions {
  /** Bytes queued before the session is closed as too slow (SESSION_QUEUE_MAX_BYTES; default in config.ts). */
  readonly maxBytes: number;
  /** Frames queued before the session is closed as too slow (SESSION_QUEUE_MAX_MESSAGES; default in config.ts). */
  readonly maxMessages: number;
  /** Socket buffer above which frames wait in the queue. @default HIGH_WATER_BYTES (64 KiB) */
  readonly highWaterBytes?: number;
}

/** Told once when a bound is passed; the writer has dropped its queue and accepts nothing more. */
export interface OverflowListener {
  overflowed(): void;
}

/** Socket buffer above which frames wait in the writer's queue, unless the options say otherwise. */
export const HIGH_WATER_BYTES = 65_536;

interface Queued {
  frame: Frame;
  key: string | undefined;
}

export class SessionWriter {
  #queue: Queued[] = [];
  #head = 0;
  #bytes = 0;
  #byKey: Map<string, Queued> | undefined; // created on the first collapsible frame that has to wait
  #waiting = false;
  #dead = false;
  #ready: Array<() => void> | undefined;
  /** The drain listener, made the first time the socket falls behind (most writers never need one). */
  #flush: (() => void) | undefined;

  constructor(
    private readonly sink: FrameSink,
    private readonly options: WriterOptions,
    private readonly owner: OverflowListener,
  ) {}

  /** Frames waiting for the socket. */
  get queued(): number {
    return this.#queue.length - this.#head;
  }

  get queuedBytes(): number {
    return this.#bytes;
  }

  /** Resolves once nothing is queued (or the writer closed): a producer of bulk frames waits on it. */
  ready(): Promise<void> {
    if (this.#dead || this.queued === 0) return Promise.resolve();
    return new Promise((resolve) => (this.#ready ??= []).push(resolve));
  }

  send(frame: Frame, collapseKey?: string): void {
    if (this.#dead) return;
    if (this.queued === 0 && this.sink.bufferedBytes() < (this.options.highWaterBytes ?? HIGH_WATER_BYTES)) {
      this.sink.write(frame);
      return;
    }
    if (collapseKey !== undefined) {
      const pending = this.#byKey?.get(collapseKey);
      if (pending) {
        this.#bytes += frame.length - pending.frame.length;
        pending.frame = frame;
        return;
      }
    }
    const entry: Queued = { frame, key: collapseKey };
    this.#queue.push(entry);
    this.#bytes += frame.length;
    if (collapseKey !== undefined) (this.#byKey ??= new Map()).set(collapseKey, entry);
    if (this.queued > this.options.maxMessages || this.#bytes > this.options.maxBytes) {
      this.close();
      this.owner.overflowed();
      return;
    }
    if (!this.#waiting) {
      this.#waiting = true;
      this.sink.onceDrained((this.#flush ??= () => this.flush()));
    }
  }

  /** Writes queued frames while the socket keeps up; waits for the next drain otherwise. */
  flush(): void {
    this.#waiting = false;
    const highWater = this.options.highWaterBytes ?? HIGH_WATER_BYTES;
    while (!this.#dead && this.#head < this.#queue.length && this.sink.bufferedBytes() < highWater) {
      const entry = this.#queue[this.#head]!;
      this.#queue[this.#head++] = undefined as never;
      this.#bytes -= entry.frame.length;
      if (entry.key !== undefined) this.#byKey!.delete(entry.key);
      this.sink.write(entry.frame);
    }
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
      this.#wake();
    } else if (!this.#dead && !this.#waiting) {
      this.#waiting = true;
      this.sink.onceDrained((this.#flush ??= () => this.flush()));
    }
  }

  #wake(): void {
    const waiting = this.#ready;
    this.#ready = undefined;
    if (waiting) for (const resolve of waiting) resolve();
  }

  /** Drops what is queued and accepts nothing more. */
  close(): void {
    this.#wake();
    this.#dead = true;
    this.#queue = [];
    this.#head = 0;
    this.#bytes = 0;
    this.#byKey = undefined;
  }
}
