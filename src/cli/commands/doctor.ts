import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { BUILTIN_AGENT_NAMES } from "../../core/builtins.js";
import { coerceError } from "../../lib/coerce-error.js";
import { whichOnPath } from "../../lib/which.js";
import { EXIT, ExitError } from "../exit-error.js";
import type { CommandInput } from "../main.js";
import { withApp } from "./common.js";

const run = promisify(execFile);

interface Check {
  check: string;
  status: "ok" | "warn" | "fail";
  detail: string;
}

async function versionOf(program: string, args: string[]): Promise<string | null> {
  try {
    const { stdout, stderr } = await run(program, args, { timeout: 10_000 });
    return (stdout.trim() || stderr.trim()).split("\n")[0] ?? "";
  } catch {
    // Missing or failing: the caller reports it.
    return null;
  }
}

/** `baton doctor`: what Baton needs here, and which agent CLIs it can run. */
export async function doctorCommand(input: CommandInput): Promise<void> {
  const checks: Check[] = [];
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  checks.push({
    check: "node",
    status: major > 20 || (major === 20 && minor >= 19) ? "ok" : "fail",
    detail: `v${process.versions.node} (needs 20.19 or newer)`,
  });
  const git = await versionOf("git", ["--version"]);
  checks.push({
    check: "git",
    status: git === null ? "fail" : "ok",
    detail: git ?? "not found on PATH; Baton needs git",
  });
  const tmux = await versionOf("tmux", ["-V"]);
  checks.push({
    check: "tmux",
    status: tmux === null ? "warn" : "ok",
    detail: tmux ?? "not found: sessions run as plain processes (runtime: process)",
  });
  for (const agent of BUILTIN_AGENT_NAMES) {
    const found = whichOnPath(agent, input.env.raw.PATH);
    checks.push({
      check: `agent ${agent}`,
      status: found === null ? "warn" : "ok",
      detail: found ?? "not on PATH",
    });
  }
  try {
    await withApp(input, async (app) => {
      checks.push({
        check: "store",
        status: "ok",
        detail:
          app.env.databaseUrl === null ? app.ctx.paths.database : "PostgreSQL (BATON_DATABASE_URL)",
      });
      try {
        const project = await app.optionalProject();
        checks.push(
          project === null
            ? { check: "baton.yaml", status: "warn", detail: "none here; `baton init` writes one" }
            : {
                check: "baton.yaml",
                status: "ok",
                detail: `${project.config.file} (project ${project.project.name})`,
              },
        );
      } catch (thrown) {
        checks.push({
          check: "baton.yaml",
          status: "fail",
          detail: coerceError(thrown).message.split("\n")[0] ?? "",
        });
      }
    });
  } catch (thrown) {
    checks.push({ check: "store", status: "fail", detail: coerceError(thrown).message });
  }
  if (input.format === "json") {
    input.out.json({ checks });
  } else {
    input.out.table(
      checks.map((c) => ({
        ...c,
        status: input.out.paint(
          c.status === "ok" ? "green" : c.status === "warn" ? "yellow" : "red",
          c.status,
        ),
      })),
      [
        { key: "check", header: "check" },
        { key: "status", header: "status" },
        { key: "detail", header: "detail" },
      ],
    );
  }
  if (checks.some((c) => c.status === "fail")) {
    throw new ExitError(EXIT.failed);
  }
}
