/**
 * Follows a growing log file, like `tail -f -c +N`, as an async iterable of chunks.
 *
 * States: draining (reading until the end of the file) → waiting (caught up; parked on a
 * wake-up) → draining …; → ended when `until()` holds at the end of the file (after one last
 * drain), or on abort. Wake-ups come from an `fs.watch` on the file's directory (which also sees
 * the file being created) and from a slow safety poll that catches anything the watcher missed
 * and re-creates a watcher that failed or could not start (the directory did not exist yet).
 */
import { watch, type FSWatcher } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { basename, dirname } from "node:path";

const DEFAULT_SAFETY_POLL_MS = 1_000;
const MIN_SAFETY_POLL_MS = 10;
const READ_CHUNK_BYTES = 64 * 1024;

export interface FollowLogOptions {
  /** Byte offset to start at; default 0 (the whole file). */
  fromOffset?: number;
  /** Ends the iteration (without an error) when it aborts. */
  signal: AbortSignal;
  /**
   * Checked each time the reader has caught up with the file: once it returns true, the
   * iteration reads the file to its end once more and ends. Without it, only `signal` ends the
   * iteration.
   */
  until?: () => boolean | Promise<boolean>;
  /** How often to look without a watcher event; default 1000 ms, at least 10 ms. */
  safetyPollMs?: number;
}

/**
 * Yields every byte appended to the file at `path`, once and in order, from `fromOffset` on,
 * each chunk as a new `Buffer` the caller may keep. New data is noticed through `fs.watch`
 * within milliseconds, not by polling. Works while the file does not exist yet (it is opened
 * when it appears) and for any number of concurrent followers, each with its own file handle.
 * The file is taken to be append-only: it is read through one handle by position, so a file that
 * is truncated or replaced is not followed. Throws only for I/O errors other than a missing
 * file, or what `until` throws. Stopping the iteration early (`break`) releases everything.
 *
 * @example
 * for await (const chunk of followLog(handle.logPath, { signal, until: () => ended })) {
 *   stream.write(chunk);
 * }
 */
export async function* followLog(
  path: string,
  options: FollowLogOptions,
): AsyncGenerator<Buffer, void, undefined> {
  const { signal, until } = options;
  if (signal.aborted) {
    return;
  }
  let offset = Math.max(0, Math.floor(options.fromOffset ?? 0));
  const pollMs = Math.max(MIN_SAFETY_POLL_MS, options.safetyPollMs ?? DEFAULT_SAFETY_POLL_MS);
  const wakeup = new Wakeup();
  const notify = (): void => wakeup.notify();
  const watcher = new DirectoryWatch(dirname(path), basename(path), notify);
  const timer = setInterval(() => {
    watcher.ensure();
    wakeup.notify();
  }, pollMs);
  signal.addEventListener("abort", notify, { once: true });
  // Opened by `drain` once the file exists.
  let file = null as FileHandle | null;
  const chunk = Buffer.allocUnsafe(READ_CHUNK_BYTES);
  /** Reads from `offset` to the current end of the file, if it exists yet. */
  async function* drain(): AsyncGenerator<Buffer, void, undefined> {
    file ??= await openIfExists(path);
    while (file !== null && !signal.aborted) {
      const { bytesRead } = await file.read(chunk, 0, chunk.length, offset);
      if (bytesRead === 0) {
        return;
      }
      offset += bytesRead;
      yield Buffer.from(chunk.subarray(0, bytesRead));
    }
  }
  try {
    for (;;) {
      // Read first, so a wake-up reaches the reader without waiting on `until`.
      yield* drain();
      if (signal.aborted) {
        return;
      }
      // Asked only at the end of the file; once it holds, whatever was written before it turned
      // true is read by one more drain.
      if (until !== undefined && (await until())) {
        yield* drain();
        return;
      }
      await wakeup.wait();
    }
  } finally {
    signal.removeEventListener("abort", notify);
    clearInterval(timer);
    watcher.close();
    await file?.close();
  }
}

/**
 * A level-triggered wake-up: `notify()` before `wait()` is remembered, so no event is lost
 * between a drain and the next wait; many notifies collapse into one.
 */
class Wakeup {
  #pending = false;
  #resolve: (() => void) | null = null;

  notify(): void {
    const resolve = this.#resolve;
    if (resolve === null) {
      this.#pending = true;
      return;
    }
    this.#resolve = null;
    resolve();
  }

  wait(): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }
}

/** An `fs.watch` on a directory that reports events about one entry; never throws. */
class DirectoryWatch {
  readonly #dir: string;
  readonly #name: string;
  readonly #onChange: () => void;
  #watcher: FSWatcher | null = null;
  #closed = false;

  constructor(dir: string, name: string, onChange: () => void) {
    this.#dir = dir;
    this.#name = name;
    this.#onChange = onChange;
    this.ensure();
  }

  /** Starts the watcher if it is not running (it could not start, or it failed). */
  ensure(): void {
    if (this.#closed || this.#watcher !== null) {
      return;
    }
    try {
      const watcher = watch(this.#dir, (_event, filename) => {
        if (filename === null || filename === this.#name) {
          this.#onChange();
        }
      });
      watcher.on("error", () => {
        // The directory went away or inotify failed: the safety poll retries the watch.
        watcher.close();
        if (this.#watcher === watcher) {
          this.#watcher = null;
        }
      });
      this.#watcher = watcher;
    } catch {
      // No directory yet, or no inotify watch left: the safety poll retries and still reads.
      this.#watcher = null;
    }
  }

  close(): void {
    this.#closed = true;
    this.#watcher?.close();
    this.#watcher = null;
  }
}

async function openIfExists(path: string): Promise<FileHandle | null> {
  try {
    return await open(path, "r");
  } catch (error) {
    if (error instanceof Error && "code" in error && error.code === "ENOENT") {
      return null;
    }
    throw error;
  }
}
