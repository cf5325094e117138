import { closeSync, constants, lstatSync, openSync, writeSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import { isSessionAlive } from "./is-session-alive.js";
import type { SessionHandle, SteerResult } from "./runtime.js";
import { sessionPaths } from "./session-paths.js";

/** How long a steer waits for a program that does not drain its stdin. */
const STEER_TIMEOUT_MS = 10_000;
const STEER_RETRY_MS = 5;

/**
 * Writes `message` exactly as given (no newline added) to the session's `stdin` FIFO, which its
 * wrapper holds open for reading. Never blocks on a FIFO without a reader (non-blocking open);
 * when the pipe is full it retries until the program reads, for at most 10 s. Expected failures
 * (no FIFO: the session reads a file or nothing; the session ended; the program does not read)
 * come back as `{ delivered: false, reason }`; throws only for unexpected I/O errors.
 */
export async function steerFifo(
  handle: Pick<SessionHandle, "name" | "dir" | "pid" | "pidStartTime">,
  message: string,
): Promise<SteerResult> {
  const path = sessionPaths(handle.dir).stdin;
  if (!isFifo(path)) {
    return {
      delivered: false,
      reason:
        `session ${handle.name} cannot be steered: its agent read its prompt from a file and ` +
        "takes no messages while it runs",
    };
  }
  if (!isSessionAlive(handle)) {
    return {
      delivered: false,
      reason: `session ${handle.name} has ended; nothing reads its stdin`,
    };
  }
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (error) {
    if (errorCode(error) === "ENXIO") {
      return {
        delivered: false,
        reason: `session ${handle.name}: no process holds its stdin FIFO open; it has ended`,
      };
    }
    throw error;
  }
  try {
    return await writeAll(fd, Buffer.from(message, "utf8"), handle.name);
  } finally {
    closeSync(fd);
  }
}

async function writeAll(fd: number, bytes: Buffer, name: string): Promise<SteerResult> {
  const deadline = Date.now() + STEER_TIMEOUT_MS;
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += writeSync(fd, bytes, offset);
    } catch (error) {
      const code = errorCode(error);
      if (code === "EPIPE") {
        return { delivered: false, reason: `session ${name} stopped reading its stdin` };
      }
      if (code !== "EAGAIN") {
        throw error;
      }
      if (Date.now() > deadline) {
        return {
          delivered: false,
          reason:
            `session ${name} did not read its stdin for ${STEER_TIMEOUT_MS} ms; ` +
            `${offset} of ${bytes.length} bytes were delivered`,
        };
      }
      await delay(STEER_RETRY_MS);
    }
  }
  return { delivered: true };
}

/** Whether the session reads its stdin from its `stdin` FIFO (a headless streaming agent). */
export function readsFifo(handle: Pick<SessionHandle, "dir">): boolean {
  return isFifo(sessionPaths(handle.dir).stdin);
}

function isFifo(path: string): boolean {
  try {
    return lstatSync(path).isFIFO();
  } catch {
    // No `stdin` entry in the session directory: not a FIFO session.
    return false;
  }
}

function errorCode(error: unknown): unknown {
  return error instanceof Error && "code" in error ? error.code : undefined;
}
