import { statSync } from "node:fs";
import { open } from "node:fs/promises";

const NEWLINE = 0x0a;
const CHUNK_BYTES = 64 * 1024;
/** `readLastLines` never reads more than this much of a log, however many lines were asked. */
const MAX_LINES_BYTES = 4 * 1024 * 1024;

/** How much a session's log holds, and when it was last written; nothing for an empty log. */
export interface LogActivity {
  logBytes: number;
  lastOutputAt: number | null;
}

export const NO_OUTPUT: Readonly<LogActivity> = Object.freeze({ logBytes: 0, lastOutputAt: null });

/**
 * The size of the log at `path` and its modification time (when output last arrived), from one
 * `stat`. A missing log (never started, or its directory was removed) wrote nothing. Never
 * throws.
 */
export function readLogActivity(path: string): Readonly<LogActivity> {
  try {
    const stat = statSync(path);
    return {
      logBytes: stat.size,
      lastOutputAt: stat.size > 0 ? Math.floor(stat.mtimeMs) : null,
    };
  } catch {
    return NO_OUTPUT;
  }
}

/**
 * The last `maxBytes` bytes of the file at `path`, as UTF-8 text. When the tail does not start
 * at the beginning of the file, it is cut to start after its first newline, so it begins with a
 * whole line (unless the tail is one long line). Reads only the tail, never the whole file.
 * Returns `""` for a missing or empty file; throws only for other I/O errors.
 *
 * @example
 * const failure = await readLogTail(join(sessionDir, "log"), 2_000);
 */
export async function readLogTail(path: string, maxBytes: number): Promise<string> {
  const tail = await readTailBytes(path, Math.max(0, Math.floor(maxBytes)));
  if (tail === null) {
    return "";
  }
  return decodeFromLineStart(tail.bytes, tail.start > 0);
}

/**
 * The last `lines` lines of the file at `path`: a suffix of the file that starts at a line
 * start, keeping the file's final newline if it has one. Reads backwards in chunks and at most
 * 4 MiB, so a huge log costs no more than its tail. Returns `""` for a missing file or
 * `lines <= 0`; throws only for I/O errors other than a missing file.
 */
export async function readLastLines(path: string, lines: number): Promise<string> {
  if (lines <= 0) {
    return "";
  }
  let handle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    if (isMissing(error)) {
      return "";
    }
    throw error;
  }
  try {
    const { size } = await handle.stat();
    const chunks: Buffer[] = [];
    let start = size;
    // A final newline ends the last line; it does not start a new one.
    let newlinesWanted = lines;
    let first = true;
    while (start > 0 && size - start < MAX_LINES_BYTES) {
      const length = Math.min(CHUNK_BYTES, start, MAX_LINES_BYTES - (size - start));
      start -= length;
      const chunk = Buffer.alloc(length);
      const { bytesRead } = await handle.read(chunk, 0, length, start);
      const bytes = chunk.subarray(0, bytesRead);
      chunks.unshift(bytes);
      let searchEnd = bytes.length;
      if (first && bytes.length > 0 && bytes[bytes.length - 1] === NEWLINE) {
        searchEnd -= 1;
      }
      first = false;
      const cut = findNthNewlineFromEnd(bytes, searchEnd, newlinesWanted);
      if (typeof cut === "number") {
        chunks[0] = bytes.subarray(cut + 1);
        return Buffer.concat(chunks).toString("utf8");
      }
      newlinesWanted -= cut.found;
    }
    const all = Buffer.concat(chunks);
    return start === 0 ? all.toString("utf8") : decodeFromLineStart(all, true);
  } finally {
    await handle.close();
  }
}

/** The index of the `n`th newline counted back from `end`, or how many were found before 0. */
function findNthNewlineFromEnd(bytes: Buffer, end: number, n: number): number | { found: number } {
  let found = 0;
  for (let index = end - 1; index >= 0; index -= 1) {
    if (bytes[index] === NEWLINE) {
      found += 1;
      if (found === n) {
        return index;
      }
    }
  }
  return { found };
}

async function readTailBytes(
  path: string,
  maxBytes: number,
): Promise<{ bytes: Buffer; start: number } | null> {
  let handle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    if (isMissing(error)) {
      return null;
    }
    throw error;
  }
  try {
    const { size } = await handle.stat();
    const start = Math.max(0, size - maxBytes);
    const buffer = Buffer.alloc(size - start);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
    return { bytes: buffer.subarray(0, bytesRead), start };
  } finally {
    await handle.close();
  }
}

/** Decodes `bytes`, dropping a partial first line when `cut` and a later line exists. */
function decodeFromLineStart(bytes: Buffer, cut: boolean): string {
  if (cut) {
    const newline = bytes.indexOf(NEWLINE);
    if (newline >= 0 && newline < bytes.length - 1) {
      return bytes.subarray(newline + 1).toString("utf8");
    }
  }
  return bytes.toString("utf8");
}

function isMissing(error: unknown): boolean {
  return error instanceof Error && "code" in error && error.code === "ENOENT";
}
