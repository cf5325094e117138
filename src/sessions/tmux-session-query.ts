/**
 * Questions asked of one session on Baton's tmux server: who is attached, and what the pane
 * shows. Sessions are always named exactly: `=name` where tmux wants a session, `=name:` (that
 * session's current window and its active pane) where it wants a pane; a bare `=name` as a pane
 * target would first be looked up as a window name in whatever session tmux deems current.
 */
import { classifyTmuxFailure, tmuxError, type TmuxClient } from "./tmux-command.js";

/** tmux target for the session itself. */
export function sessionTarget(name: string): string {
  return `=${name}`;
}

/** tmux target for the session's active pane. */
export function paneTarget(name: string): string {
  return `=${name}:`;
}

export type AttachedClients =
  /** The session exists; one entry per attached client: its last activity (ms), or `null`. */
  | { kind: "listed"; activityAt: (number | null)[] }
  /** No such session (or no server at all). */
  | { kind: "gone" }
  /** tmux could not answer; whether a human is there is unknown. */
  | { kind: "error"; message: string };

/**
 * The clients attached to session `name`, with each one's last keyboard or mouse activity
 * (`#{client_activity}`, whole seconds, turned into ms). Never throws.
 */
export async function listAttachedClients(
  client: TmuxClient,
  name: string,
): Promise<AttachedClients> {
  const result = await client.run([
    "list-clients",
    "-t",
    sessionTarget(name),
    "-F",
    "#{client_activity}",
  ]);
  if (result.code === 0) {
    const activityAt = result.stdout
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => (/^\d+$/.test(line) ? Number(line) * 1000 : null));
    return { kind: "listed", activityAt };
  }
  if (classifyTmuxFailure(result.stderr) !== "other") {
    return { kind: "gone" };
  }
  return { kind: "error", message: tmuxError(`listing the clients of ${name}`, result).message };
}

/**
 * The text of session `name`'s active pane, from `historyLines` lines above the visible screen
 * to its bottom, with wrapped lines joined (`capture-pane -p -J`). Resolves `null` when the
 * session does not exist; throws `ProcessExitError` for other tmux failures.
 */
export async function capturePane(
  client: TmuxClient,
  name: string,
  historyLines: number,
): Promise<string | null> {
  const result = await client.run([
    "capture-pane",
    "-p",
    "-J",
    "-S",
    `-${Math.max(0, Math.floor(historyLines))}`,
    "-t",
    paneTarget(name),
  ]);
  if (result.code === 0) {
    return result.stdout;
  }
  if (classifyTmuxFailure(result.stderr) !== "other") {
    return null;
  }
  throw tmuxError(`capturing the pane of session ${name}`, result);
}

/**
 * The last `lines` lines of a captured pane, without the blank rows below the last line the
 * program wrote, each line ended by `\n`. Pure.
 */
export function lastPaneLines(captured: string, lines: number): string {
  if (lines <= 0) {
    return "";
  }
  const rows = captured.split("\n");
  while (rows.length > 0 && (rows[rows.length - 1] ?? "").trim() === "") {
    rows.pop();
  }
  const kept = rows.slice(-lines);
  return kept.length === 0 ? "" : `${kept.join("\n")}\n`;
}
