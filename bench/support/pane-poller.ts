/**
 * The stream-latency benchmark's reference: what tools that watch an agent by polling its tmux
 * pane see. Every `intervalMs` (2 s in those tools) it runs `tmux capture-pane` on the session,
 * and each tick counts as visible when the first capture that shows it has returned.
 *
 * States: polling (one capture at a time, each due at `start + k * intervalMs`) → stopped. It
 * owns one timer, cancelled by `stop()`; nothing is scheduled after that.
 */
import { performance } from "node:perf_hooks";
import { setTimeout as delay } from "node:timers/promises";
import type { TmuxClient } from "../../src/sessions/tmux-command.js";
import { capturePane } from "../../src/sessions/tmux-session-query.js";
import { parseTick } from "./timed-lines.js";
import { epochMs } from "./trace.js";

export interface PanePoller {
  /** Delay (ms) from each tick's stamp to the end of the first capture that showed it, by seq. */
  readonly firstSeen: ReadonlyMap<number, number>;
  /** How many captures ran, and how long they took (ms). */
  readonly captureMs: readonly number[];
  /** Stops polling; waits for a capture under way. Rejects with the first capture's failure. */
  stop(): Promise<void>;
}

export interface PanePollerOptions {
  tmux: TmuxClient;
  /** The tmux session name (Baton's session name). */
  session: string;
  intervalMs: number;
  /** Lines of scrollback each capture includes above the visible pane. */
  historyLines: number;
}

/** Starts polling at once (the first capture runs now). */
export function startPanePoller(options: PanePollerOptions): PanePoller {
  const firstSeen = new Map<number, number>();
  const captureMs: number[] = [];
  const controller = new AbortController();
  const poll = async (): Promise<void> => {
    const start = performance.now();
    for (let k = 1; !controller.signal.aborted; k += 1) {
      const asked = performance.now();
      const screen = await capturePane(options.tmux, options.session, options.historyLines);
      const at = epochMs();
      captureMs.push(performance.now() - asked);
      for (const line of (screen ?? "").split("\n")) {
        const tick = parseTick(line);
        if (tick !== null && !firstSeen.has(tick.seq)) {
          firstSeen.set(tick.seq, at - tick.stampMs);
        }
      }
      const wait = start + k * options.intervalMs - performance.now();
      try {
        await delay(Math.max(0, wait), undefined, { signal: controller.signal });
      } catch {
        // Aborted by stop(): the loop ends.
      }
    }
  };
  const polling = poll();
  // stop() awaits it and so reports a failure; until then, no unhandled rejection.
  polling.then(null, () => undefined);
  return {
    firstSeen,
    captureMs,
    stop: async () => {
      controller.abort();
      await polling;
    },
  };
}
