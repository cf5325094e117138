/**
 * Helpers for running an agent CLI's terminal UI the way Baton runs an interactive stage: the
 * adapter's invocation started as a session of the tmux runtime (on the private tmux server of
 * `createTmuxKit`), with a fake `baton` first on PATH that records how the agent reported its
 * turns, so the adapter is tested without the engine. Also the first-run state each CLI needs in
 * a fresh HOME before its terminal UI gets to the prompt, which people running interactive
 * stages set up by running the CLI once themselves (see the adapters' comments).
 */
import { appendFileSync, chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { readText } from "../sessions/session-kit.js";

/** A stand-in for Baton's `baton` shim that appends `<its arguments>|$BATON_SESSION` to a file. */
export interface FakeBaton {
  /** The directory holding `baton`, to put first on PATH. */
  binDir: string;
  /** Every call so far, in order, as `<arguments joined by spaces>|<BATON_SESSION>`. */
  calls(): string[];
}

export function makeFakeBaton(dir: string): FakeBaton {
  const binDir = join(dir, "fake-bin");
  const record = join(dir, "baton-calls");
  mkdirSync(binDir, { recursive: true });
  const script = join(binDir, "baton");
  writeFileSync(
    script,
    `#!/bin/sh\nprintf '%s|%s\\n' "$*" "$BATON_SESSION" >> '${record.replaceAll("'", "'\\''")}'\n`,
  );
  chmodSync(script, 0o755);
  return {
    binDir,
    calls: () =>
      readText(record)
        .split("\n")
        .filter((line) => line !== ""),
  };
}

/** The calls a session's agent makes to report `signal` (`idle`, `active`). */
export function signalCall(signal: "idle" | "active", session: string): string {
  return `session event --type ${signal}|${session}`;
}

/**
 * Waits until `check()` holds, polling every 50 ms; after `timeoutMs` throws with `describe()`,
 * which should say what the agent's terminal showed.
 */
export async function waitFor(
  what: string,
  check: () => boolean,
  describe: () => Promise<string>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}\n${await describe()}`);
    }
    await delay(50);
  }
}

export interface ClaudeFirstRun {
  /** A folder whose trust Claude Code accepts for every folder below it (e.g. the worktrees'). */
  trustedDir: string;
  /** The `ANTHROPIC_API_KEY` the agent runs with, to answer "use this API key?" with yes. */
  apiKey: string;
  /**
   * How long after a turn Claude Code sends its `idle_prompt` notification, in ms (its default
   * is 60 s).
   */
  idleNotificationMs?: number;
}

/**
 * Writes `<home>/.claude.json` as Claude Code 2.1.197 leaves it once a person has run `claude`
 * and answered its first-run screens: onboarding done (`hasCompletedOnboarding`; without it the
 * UI starts onboarding, which fails offline at its connectivity check to api.anthropic.com), the
 * folder trusted (`projects[dir].hasTrustDialogAccepted`) and the API key approved
 * (`customApiKeyResponses.approved` holds the key's last 20 characters).
 */
export function seedClaudeFirstRun(home: string, options: ClaudeFirstRun): void {
  writeFileSync(
    join(home, ".claude.json"),
    JSON.stringify({
      hasCompletedOnboarding: true,
      projects: { [options.trustedDir]: { hasTrustDialogAccepted: true } },
      customApiKeyResponses: { approved: [options.apiKey.slice(-20)], rejected: [] },
      ...(options.idleNotificationMs === undefined
        ? {}
        : { messageIdleNotifThresholdMs: options.idleNotificationMs }),
    }),
  );
}

export interface CodexFirstRun {
  /** The model the session runs, whose new-model announcement counts as answered. */
  model: string;
  /** The model Codex 0.169.0 announces as its successor. */
  successor: string;
  /** The project's own checkout: Codex asks to trust the repository root of a worktree. */
  trustedProject: string;
}

/**
 * Appends to `<codexHome>/config.toml` what Codex 0.169.0 records once a person has answered its
 * first-run screens in the terminal UI: the new-model announcement for `model`
 * (`[notice.model_migrations]`, "Use existing model") and the folder trust prompt for the
 * project (`[projects."<dir>"] trust_level = "trusted"`). The config must not have these tables.
 */
export function seedCodexFirstRun(codexHome: string, options: CodexFirstRun): void {
  appendFileSync(
    join(codexHome, "config.toml"),
    [
      "",
      "[notice.model_migrations]",
      `${JSON.stringify(options.model)} = ${JSON.stringify(options.successor)}`,
      "",
      `[projects.${JSON.stringify(options.trustedProject)}]`,
      'trust_level = "trusted"',
      "",
    ].join("\n"),
  );
}
