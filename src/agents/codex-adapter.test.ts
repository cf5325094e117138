import { describe, expect, it } from "vitest";
import type { FailureInput, InvocationInput } from "./adapter.js";
import { codexAdapter, INTERACTIVE_NOTIFY } from "./codex-adapter.js";
import { builtinAgent, failureInput, fixture, invocationInput } from "./adapter-test-kit.js";
import { getAdapter } from "./registry.js";

const AGENT = builtinAgent("codex", { model: "gpt-5.5" });

const input = (overrides: Partial<InvocationInput> = {}): InvocationInput =>
  invocationInput(AGENT, {
    prompt: "Fix the bug; `rm -rf /` is not a command here.",
    worktree: "/srv/baton/worktrees/task-1",
    taskNumber: 1,
    forbiddenDirs: ["/home/me/project"],
    ...overrides,
  });
const failure = (overrides: Partial<FailureInput>): FailureInput =>
  failureInput(1_000_000, overrides);

describe("codexAdapter.invocation", () => {
  it("runs codex exec --json in the worktree, sandboxed, with the prompt on stdin", () => {
    const invocation = codexAdapter.invocation(input());
    expect(invocation).toEqual({
      argv: [
        "codex",
        "exec",
        "--json",
        "--cd=/srv/baton/worktrees/task-1",
        "--skip-git-repo-check",
        "--sandbox",
        "workspace-write",
        "-c",
        'approval_policy="never"',
        "--model=gpt-5.5",
        "-",
      ],
      stdin: "prompt",
      env: {},
      initialInput: null,
    });
    expect(invocation.argv.join(" ")).not.toContain("rm -rf");
  });

  it("takes the job's model over the agent's, and passes none when neither has one", () => {
    expect(codexAdapter.invocation(input({ model: "gpt-6-sol" })).argv).toContain(
      "--model=gpt-6-sol",
    );
    const none = codexAdapter.invocation(input({ agent: { ...AGENT, model: null } })).argv;
    expect(none.some((arg) => arg.startsWith("--model"))).toBe(false);
  });

  it("closes /tmp and $TMPDIR when the forbidden checkout lies in /tmp", () => {
    const argv = codexAdapter.invocation(input({ forbiddenDirs: ["/tmp/project"] })).argv;
    expect(argv).toEqual(
      expect.arrayContaining([
        "sandbox_workspace_write.exclude_slash_tmp=true",
        "sandbox_workspace_write.exclude_tmpdir_env_var=true",
      ]),
    );
    const elsewhere = codexAdapter.invocation(input({ forbiddenDirs: ["/tmpfoo/project"] })).argv;
    expect(elsewhere.join(" ")).not.toContain("exclude_slash_tmp");
  });

  it("runs without Codex's sandbox when sandboxing is off (no forbidden dirs)", () => {
    const argv = codexAdapter.invocation(input({ forbiddenDirs: [] })).argv;
    expect(argv).toContain("danger-full-access");
    expect(argv).not.toContain("workspace-write");
  });

  it("runs the terminal UI with the prompt after --, reporting turn ends through notify", () => {
    expect(codexAdapter.invocation(input({ interactive: true }))).toEqual({
      argv: [
        "codex",
        "--cd=/srv/baton/worktrees/task-1",
        "--no-daemon",
        "--no-alt-screen",
        "--sandbox",
        "workspace-write",
        "-c",
        'approval_policy="never"',
        "-c",
        `notify=${JSON.stringify(INTERACTIVE_NOTIFY)}`,
        "--model=gpt-5.5",
        "--",
        "Fix the bug; `rm -rf /` is not a command here.",
      ],
      stdin: "null",
      env: {},
      initialInput: null,
    });
    expect(INTERACTIVE_NOTIFY).toEqual([
      "sh",
      "-c",
      "case $1 in " +
        `*'"input-messages":["Generate a concise, single-line task title'*) ;; ` +
        `*'"type":"agent-turn-complete"'*) exec baton session event --type idle >/dev/null;; esac`,
      "baton-notify",
    ]);
  });

  it("points an interactive session at the prompt file when the prompt is too long", () => {
    const argv = codexAdapter.invocation(
      input({ interactive: true, prompt: "x".repeat(70_000) }),
    ).argv;
    expect(argv.slice(-2)).toEqual([
      "--",
      "Your task is in the file /srv/baton/sessions/s1/prompt.md. Read it first, then carry it out.",
    ]);
    const unsandboxed = codexAdapter.invocation(
      input({ interactive: true, forbiddenDirs: [], model: "o3" }),
    ).argv;
    expect(unsandboxed).toContain("danger-full-access");
    expect(unsandboxed).toContain("--model=o3");
  });

  it("cannot be steered, and is registered under its name", () => {
    expect(codexAdapter.steering).toBe("none");
    expect(getAdapter("codex")).toBe(codexAdapter);
  });
});

describe("codexAdapter.classifyFailure", () => {
  it("takes the last error event Codex printed", () => {
    const tail = fixture("codex", "rate-limit.jsonl");
    const parser = codexAdapter.createParser();
    const events = parser === null ? [] : tail.split("\n").flatMap((line) => parser.line(line));
    expect(codexAdapter.classifyFailure(failure({ outputTail: tail, events }))).toEqual({
      errorClass: "rate_limit",
      message: "rate limited: exceeded retry limit, last status: 429 Too Many Requests",
      resetAt: null,
    });
  });

  it("classifies a failed result's detail when no error event came", () => {
    const verdict = codexAdapter.classifyFailure(
      failure({
        events: [
          { kind: "result", ok: false, text: "", detail: "unexpected status 401 Unauthorized" },
        ],
      }),
    );
    expect(verdict.errorClass).toBe("auth");
  });

  it("reads Codex's retry notices when it was stopped while retrying", () => {
    const tail = fixture("codex", "network-down.jsonl");
    const verdict = codexAdapter.classifyFailure(
      failure({ exitCode: null, signal: "SIGTERM", outputTail: tail }),
    );
    expect(verdict).toEqual({
      errorClass: "transient",
      message:
        "codex was killed by SIGTERM while retrying; transient failure: Reconnecting... " +
        "waiting for network (Connection failed: error sending request)",
      resetAt: null,
    });
  });

  it("falls back to the exit and output", () => {
    expect(
      codexAdapter.classifyFailure(
        failure({ exitCode: 127, outputTail: "sh: 1: codex: not found\n" }),
      ),
    ).toMatchObject({ errorClass: "permanent" });
    expect(
      codexAdapter.classifyFailure(
        failure({
          outputTail:
            "Error loading config.toml: model_providers contains reserved built-in provider IDs: `openai`.\n",
        }),
      ),
    ).toMatchObject({ errorClass: "permanent" });
  });
});
