/**
 * Steering a tmux session: typing a message into the program's terminal, never while a person
 * may be typing there.
 *
 * Steps: refuse while any client is attached (or tmux cannot say) → load the text into a named
 * tmux buffer (from stdin, so it is never parsed) → paste it (bracketed when the program asked
 * for bracketed paste) → submit with Enter → read the pane until the message's last line shows
 * up once more than before. The paste and the Enter each run inside a tmux `if-shell -F
 * '#{session_attached}'`, so the server itself re-checks that nobody is attached at the moment
 * it types: no window between our check and the keystrokes.
 */
import { randomBytes } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import { isSessionAlive } from "./is-session-alive.js";
import type { SessionHandle, SteerResult } from "./runtime.js";
import { classifyTmuxFailure, tmuxError, type TmuxClient } from "./tmux-command.js";
import { capturePane, listAttachedClients, paneTarget } from "./tmux-session-query.js";

/** How long the message's last line may take to appear in the pane. */
const CONFIRM_TIMEOUT_MS = 2_000;
const CONFIRM_POLL_MS = 25;
/** Lines of history read to look for the message. */
const CONFIRM_HISTORY_LINES = 200;
/**
 * A pause between the paste and the Enter: programs that tell typing from pasting by timing
 * (no bracketed paste) would otherwise take the Enter as part of the paste.
 */
const SUBMIT_DELAY_MS = 50;

/**
 * Types `message` into session `handle`'s terminal and submits it. Returns
 * `{ delivered: false, reason }` when a human is attached (or human detection fails), when the
 * session has ended, for an empty message, and when the message did not show up in the pane
 * within 2 s. Throws `ProcessExitError` only when tmux fails for another reason.
 *
 * The text is typed as literal characters: line breaks (`\r\n`, `\r`, `\n`) become line breaks
 * of the paste, trailing line breaks are dropped (Enter submits), tabs are kept, and other
 * control characters (escape, Ctrl-C…) are removed so that a message cannot act as keys.
 */
export async function steerTmuxSession(
  client: TmuxClient,
  handle: Pick<SessionHandle, "name" | "pid" | "pidStartTime">,
  message: string,
): Promise<SteerResult> {
  const { name } = handle;
  const text = normalizeSteerText(message);
  const needle = confirmationNeedle(text);
  if (needle === null) {
    return {
      delivered: false,
      reason: `the message for session ${name} is empty; nothing to type`,
    };
  }
  const ended: SteerResult = {
    delivered: false,
    reason: `session ${name} has ended; there is no terminal to type into`,
  };
  if (!isSessionAlive(handle)) {
    return ended;
  }
  const clients = await listAttachedClients(client, name);
  if (clients.kind === "gone") {
    return ended;
  }
  if (clients.kind === "error") {
    return {
      delivered: false,
      reason: `cannot tell whether a human is attached to session ${name}, so not typing: ${clients.message}`,
    };
  }
  if (clients.activityAt.length > 0) {
    return humanPresent(name);
  }

  const before = await capturePane(client, name, CONFIRM_HISTORY_LINES);
  if (before === null) {
    return ended;
  }
  const seenBefore = countOccurrences(before, needle);

  const buffer = `baton-steer-${randomBytes(6).toString("hex")}`;
  const target = paneTarget(name);
  await client.runOrThrow(["load-buffer", "-b", buffer, "-"], `steering session ${name}`, text);
  const pasted = await typeUnlessAttached(
    client,
    target,
    `paste-buffer -p -d -b ${buffer} -t ${target}`,
  );
  if (pasted !== "typed") {
    // Not pasted, so `-d` did not delete it. Best effort: a leftover buffer is only memory.
    await client.run(["delete-buffer", "-b", buffer]);
  }
  if (pasted === "attached") {
    return humanPresent(name);
  }
  if (pasted === "gone") {
    return ended;
  }

  await delay(SUBMIT_DELAY_MS);
  const submitted = await typeUnlessAttached(client, target, `send-keys -t ${target} Enter`);
  if (submitted === "attached") {
    return {
      delivered: false,
      reason:
        `a human attached to session ${name} while Baton was typing: the message was pasted ` +
        "but not submitted (Enter was not pressed); it is left for them",
    };
  }
  if (submitted === "gone") {
    return ended;
  }

  const deadline = Date.now() + CONFIRM_TIMEOUT_MS;
  for (;;) {
    const now = await capturePane(client, name, CONFIRM_HISTORY_LINES);
    if (now === null) {
      return ended;
    }
    if (countOccurrences(now, needle) > seenBefore) {
      return { delivered: true };
    }
    if (Date.now() >= deadline) {
      return {
        delivered: false,
        reason:
          `typed into session ${name}, but its last line was not seen in the pane within ` +
          `${CONFIRM_TIMEOUT_MS} ms`,
      };
    }
    await delay(CONFIRM_POLL_MS);
  }
}

function humanPresent(name: string): SteerResult {
  return {
    delivered: false,
    reason: `a human is attached to session ${name}; Baton does not type while a person may be typing`,
  };
}

/**
 * Runs tmux command `command` (a tmux command string of our own: fixed words, buffer and session
 * names of safe characters) only if no client is attached to the session, decided by the tmux
 * server at that moment.
 */
async function typeUnlessAttached(
  client: TmuxClient,
  target: string,
  command: string,
): Promise<"typed" | "attached" | "gone"> {
  const result = await client.run([
    "if-shell",
    "-F",
    "-t",
    target,
    "#{session_attached}",
    "display-message -p attached",
    `${command} ; display-message -p typed`,
  ]);
  if (result.code === 0 && result.stdout.trim() === "typed") {
    return "typed";
  }
  if (result.code === 0 && result.stdout.trim() === "attached") {
    return "attached";
  }
  if (result.code !== 0 && classifyTmuxFailure(result.stderr) !== "other") {
    return "gone";
  }
  throw tmuxError(`typing into session ${target}`, result);
}

/**
 * The text to paste: line breaks normalised to `\n`, trailing ones dropped, control characters
 * other than tab and newline (C0, DEL, C1) removed. Pure.
 * @internal
 */
export function normalizeSteerText(message: string): string {
  let text = "";
  for (const char of message.replace(/\r\n?/g, "\n")) {
    if (char === "\t" || char === "\n" || !isControlCharacter(char.codePointAt(0) ?? 0)) {
      text += char;
    }
  }
  return text.replace(/\n+$/, "");
}

/** C0 controls, DEL and C1 controls: what a terminal would act on rather than show. */
function isControlCharacter(code: number): boolean {
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

/**
 * What must show up in the pane to confirm delivery: the longest tab-free stretch of the last
 * non-blank line, trimmed (a terminal shows tabs as spaces, and drops trailing blanks). `null`
 * when the text has no visible characters. Pure.
 * @internal
 */
export function confirmationNeedle(text: string): string | null {
  const lines = text.split("\n").filter((line) => line.trim() !== "");
  const last = lines[lines.length - 1];
  if (last === undefined) {
    return null;
  }
  const parts = last
    .split("\t")
    .map((part) => part.trim())
    .sort((a, b) => b.length - a.length);
  return parts[0] === undefined || parts[0] === "" ? null : parts[0];
}

function countOccurrences(haystack: string, needle: string): number {
  let count = 0;
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + 1)) {
    count += 1;
  }
  return count;
}
