/**
 * The `baton` command line: parses arguments, loads the command's module on demand, maps
 * errors to exit codes (0 ok, 1 failed, 2 usage or config error), and alone owns the process:
 * it exits, and on SIGINT/SIGTERM it lets the command shut down, then re-raises the signal.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import type { AppError } from "../core/errors.js";
import { ConfigError, InternalError, isUserError, UsageError } from "../core/errors.js";
import { coerceError } from "../lib/coerce-error.js";
import { readCliEnv, type CliEnv } from "./env.js";
import { EXIT, ExitError } from "./exit-error.js";
import { createOutput, type Format, type Output } from "./output.js";
import { readVersion } from "./version.js";

/** What every command handler receives. */
export interface CommandInput {
  env: CliEnv;
  out: Output;
  format: Format;
  signal: AbortSignal;
}

type Handler = (input: CommandInput) => Promise<void>;

function formatOf(options: { format?: string; json?: boolean }): Format {
  return options.json === true ? "json" : options.format === "json" ? "json" : "table";
}

/** Adds `--format` and `--json` to a read command. */
function readable(command: Command): Command {
  return command
    .addOption(
      new Option("--format <format>", "output format").choices(["table", "json"]).default("table"),
    )
    .option("--json", "same as --format json");
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function positiveInt(value: string): number | null {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : null;
}

/** Parses an option's positive whole number; commander reports a bad one (exit 2). */
function positiveIntOption(name: string) {
  return (value: string): number => {
    const n = positiveInt(value);
    if (n === null) {
      throw new InvalidArgumentError(`${name} must be a positive whole number, got '${value}'`);
    }
    return n;
  };
}

/**
 * Parses a task number argument inside an action. Commander has already returned by then, so
 * the error must be one `report` prints.
 */
function taskNumber(value: string): number {
  const n = positiveInt(value);
  if (n === null) {
    throw new UsageError(`the task number must be a positive whole number, got '${value}'`);
  }
  return n;
}

export function buildProgram(
  run: (handler: (input: CommandInput) => Promise<void>, format: Format) => Promise<void>,
): Command {
  const program = new Command("baton")
    .description(
      "Run autonomous coding agents through durable, gated pipelines, one git worktree per task.",
    )
    .version(readVersion(), "-V, --version")
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({ outputError: (text, write) => write(text) })
    .exitOverride();

  const act = (load: () => Promise<Handler>, options?: { format?: string; json?: boolean }) =>
    run(async (input) => (await load())(input), formatOf(options ?? {}));

  program
    .command("init")
    .description(
      "write a commented starter baton.yaml and prompt files into the current repository",
    )
    .option("--template <name>", "pipeline template: default, feature, delivery or idea", "default")
    .option("--force", "overwrite existing files")
    .action((o: { template: string; force?: boolean }) =>
      act(async () => (await import("./commands/init.js")).initCommand(o)),
    );

  readable(
    program
      .command("doctor")
      .description("check that Baton can run here: node, git, tmux, agent CLIs, the store"),
  ).action((o: { format?: string; json?: boolean }) =>
    act(async () => (await import("./commands/doctor.js")).doctorCommand, o),
  );

  program
    .command("demo")
    .description(
      "run a scripted pipeline on a small throwaway repository with a real bug (offline)",
    )
    .action(() => act(async () => (await import("./commands/demo.js")).demoCommand()));

  program
    .command("serve")
    .description("run the engine in the foreground, driving every open pipeline until interrupted")
    .option(
      "--tick <ms>",
      "how often to check for timeouts and missed work",
      positiveIntOption("--tick"),
      10_000,
    )
    .action((o: { tick: number }) =>
      act(async () => (await import("./commands/serve.js")).serveCommand(o)),
    );

  const config = program.command("config").description("check or describe baton.yaml");
  config
    .command("validate")
    .description(
      "report every problem in baton.yaml as file:line:col: path: message (exit 2 if any)",
    )
    .option("--file <path>", "the config file (default: baton.yaml found from here)")
    .action((o: { file?: string }) =>
      act(async () => (await import("./commands/config.js")).validateCommand(o)),
    );
  config
    .command("schema")
    .description("print the JSON Schema of baton.yaml, for editors")
    .action(() => act(async () => (await import("./commands/config.js")).schemaCommand));

  const project = program.command("project").description("repositories Baton works on");
  project
    .command("add <path>")
    .description("register a local git checkout holding a baton.yaml")
    .action((path: string) =>
      act(async () => (await import("./commands/project.js")).projectAddCommand(path)),
    );
  readable(project.command("list").description("list registered projects")).action(
    (o: { format?: string; json?: boolean }) =>
      act(async () => (await import("./commands/project.js")).projectListCommand, o),
  );

  const task = program.command("task").description("tasks of the current project");
  task
    .command("add <title>")
    .description(
      "add a task; its pipeline starts when a slot is free (baton serve, check-in or pipeline advance)",
    )
    .option("--body-file <file>", "read the task's description from a file ('-' for stdin)")
    .option("--label <label>", "add a label (repeatable), e.g. agent:codex", collect, [])
    .option("--pipeline <name>", "pipeline to run (default: defaults.pipeline)")
    .option("--agent <name>", "agent for the task's agent stages")
    .action((title: string, o: TaskAddOptions) =>
      act(async () => (await import("./commands/task.js")).taskAddCommand(title, o)),
    );
  readable(
    task
      .command("list")
      .description("list tasks")
      .option("--status <status>", "only tasks in this status", collect, []),
  ).action((o: { status: string[]; format?: string; json?: boolean }) =>
    act(async () => (await import("./commands/task.js")).taskListCommand(o), o),
  );
  readable(task.command("show <n>").description("show a task, its pipeline and stages")).action(
    (n: string, o: { format?: string; json?: boolean }) =>
      act(async () => (await import("./commands/task.js")).taskShowCommand(taskNumber(n)), o),
  );
  task
    .command("cancel <n>")
    .description("cancel a task and stop its pipeline's sessions")
    .action((n: string) =>
      act(async () => (await import("./commands/task.js")).taskCancelCommand(taskNumber(n))),
    );
  task
    .command("unblock <n>")
    .description(
      "retry the escalated stage of a task that needs review ('all' for every such task)",
    )
    .option("--reason <text>", "note passed to the agent", "unblocked by a person")
    .action((n: string, o: { reason: string }) =>
      act(async () =>
        (await import("./commands/task.js")).taskUnblockCommand(
          n === "all" ? "all" : taskNumber(n),
          o.reason,
        ),
      ),
    );

  program
    .command("run <title>")
    .description(
      "add a task and drive its pipeline to the end in the foreground (exit 0 completed, 1 failed or blocked)",
    )
    .option("--body-file <file>", "read the task's description from a file ('-' for stdin)")
    .option("--label <label>", "add a label (repeatable)", collect, [])
    .option("--pipeline <name>", "pipeline to run (default: defaults.pipeline)")
    .option("--agent <name>", "agent for the task's agent stages")
    .action((title: string, o: TaskAddOptions) =>
      act(async () => (await import("./commands/run.js")).runCommand(title, o)),
    );

  const pipeline = program
    .command("pipeline")
    .description("a task's pipeline, named by the task number");
  pipeline
    .command("create <n>")
    .description("start a new pipeline for a task whose last one ended")
    .option("--pipeline <name>", "pipeline to run (default: the task's)")
    .action((n: string, o: { pipeline?: string }) =>
      act(async () =>
        (await import("./commands/pipeline.js")).pipelineCreateCommand(taskNumber(n), o),
      ),
    );
  readable(
    pipeline
      .command("advance <n>")
      .description(
        "do what can be done now for this pipeline; with --wait, drive it until it ends or blocks",
      )
      .option("--wait", "stay and drive the pipeline until it completes, fails or blocks"),
  ).action((n: string, o: { wait?: boolean; format?: string; json?: boolean }) =>
    act(
      async () => (await import("./commands/pipeline.js")).pipelineAdvanceCommand(taskNumber(n), o),
      o,
    ),
  );
  readable(
    pipeline.command("status <n>").description("stages, attempts, fix rounds, times and cost"),
  ).action((n: string, o: { format?: string; json?: boolean }) =>
    act(
      async () => (await import("./commands/pipeline.js")).pipelineStatusCommand(taskNumber(n)),
      o,
    ),
  );
  pipeline
    .command("retry <n>")
    .description("run the failed or escalated stages of a failed or blocked pipeline again")
    .requiredOption("--reason <text>", "why; passed to the agent")
    .action((n: string, o: { reason: string }) =>
      act(async () =>
        (await import("./commands/pipeline.js")).pipelineRetryCommand(taskNumber(n), o.reason),
      ),
    );
  pipeline
    .command("fail <n>")
    .description("mark an open pipeline failed and stop its sessions")
    .requiredOption("--reason <text>", "why")
    .action((n: string, o: { reason: string }) =>
      act(async () =>
        (await import("./commands/pipeline.js")).pipelineFailCommand(taskNumber(n), o.reason),
      ),
    );
  pipeline
    .command("abort <n>")
    .description("cancel a pipeline and stop its sessions")
    .option("--remove-worktree", "also remove its worktree (the branch is kept)")
    .action((n: string, o: { removeWorktree?: boolean }) =>
      act(async () =>
        (await import("./commands/pipeline.js")).pipelineAbortCommand(taskNumber(n), o),
      ),
    );

  readable(
    program
      .command("status")
      .description("all pipelines: of this project inside one, else everywhere"),
  ).action((o: { format?: string; json?: boolean }) =>
    act(async () => (await import("./commands/status.js")).statusCommand, o),
  );

  const checkIn = (command: Command): Command =>
    readable(
      command.description(
        "one tick of the orchestrator over every open pipeline; prints the actions taken",
      ),
    ).action((o: { format?: string; json?: boolean }) =>
      act(async () => (await import("./commands/check-in.js")).checkInCommand, o),
    );
  checkIn(program.command("check-in"));
  checkIn(
    program.command("orchestrator").description("the orchestrator's commands").command("check-in"),
  );

  const session = program.command("session").description("live sessions of jobs");
  readable(
    session
      .command("list")
      .description("every session with its state; marks orphans (no-tmux, no-db)"),
  ).action((o: { format?: string; json?: boolean }) =>
    act(async () => (await import("./commands/session.js")).sessionListCommand, o),
  );
  session
    .command("peek <name>")
    .description("print the last lines of a session's output")
    .option("--lines <n>", "how many lines", positiveIntOption("--lines"), 40)
    .action((name: string, o: { lines: number }) =>
      act(async () => (await import("./commands/session.js")).sessionPeekCommand(name, o.lines)),
    );
  session
    .command("steer <name> <message>")
    .description("send a message to a running session, if its agent can take one")
    .action((name: string, message: string) =>
      act(async () => (await import("./commands/session.js")).sessionSteerCommand(name, message)),
    );

  session
    .command("stream <n>")
    .description("follow the live output of task n's current session until it ends")
    .action((n: string) =>
      act(async () => (await import("./commands/session.js")).sessionStreamCommand(taskNumber(n))),
    );
  session
    .command("attach <name>")
    .description("attach this terminal to a tmux session (detach with C-b d)")
    .action((name: string) =>
      act(async () => (await import("./commands/session.js")).sessionAttachCommand(name)),
    );
  session
    .command("event [name]")
    .description(
      "an agent's own signal (hooks): idle when it waits for input, active when it works",
    )
    .requiredOption("--type <signal>", "idle or active (also: stop, notification, prompt)")
    .action((name: string | undefined, o: { type: string }) =>
      act(async () => (await import("./commands/session.js")).sessionEventCommand(name, o)),
    );
  readable(
    session
      .command("gc")
      .description("remove tmux sessions no record knows, and worktrees of long-finished pipelines")
      .option("--older-than <age>", "only pipelines finished this long ago", "7d")
      .option("--dry-run", "only say what would be removed"),
  ).action((o: { olderThan: string; dryRun?: boolean; format?: string; json?: boolean }) =>
    act(async () => (await import("./commands/session.js")).sessionGcCommand(o), o),
  );

  const job = program.command("job").description("jobs, from inside a session");
  job
    .command("spawn")
    .description("add a job to this session's pipeline (needs BATON_JOB_ID and BATON_JOB_TOKEN)")
    .requiredOption("--stage <id>", "the stage the new job runs")
    .requiredOption("--context <text>", "what the new job should do; reaches its prompt")
    .action((o: { stage: string; context: string }) =>
      act(async () => (await import("./commands/job.js")).jobSpawnCommand(o)),
    );

  const analytics = program.command("analytics").description("reports from the event history");
  const report = (name: string, description: string, since = false) => {
    const command = readable(analytics.command(name).description(description));
    if (since) {
      command.option(
        "--since <date>",
        "only from this date on (YYYY-MM-DD or a duration such as 7d)",
      );
    }
    return command;
  };
  report("stage-duration", "average, p50 and p95 duration of each stage").action(
    (o: { format?: string; json?: boolean }) =>
      act(
        async () =>
          (await import("./commands/analytics.js")).analyticsCommand("stage-duration", {}),
        o,
      ),
  );
  report("check-failure-rate", "how often each gate fails").action(
    (o: { format?: string; json?: boolean }) =>
      act(
        async () =>
          (await import("./commands/analytics.js")).analyticsCommand("check-failure-rate", {}),
        o,
      ),
  );
  report("pipeline-throughput", "pipelines finished per day, by outcome", true).action(
    (o: { since?: string; format?: string; json?: boolean }) =>
      act(
        async () =>
          (await import("./commands/analytics.js")).analyticsCommand("pipeline-throughput", o),
        o,
      ),
  );
  report(
    "cost",
    "jobs, tokens (in, out, cache read, cache write) and cost, by agent, model, stage or day",
    true,
  )
    .option(
      "--by <keys>",
      "group by agent, model, stage or day; a comma list or repeated for several (default: agent)",
      // No commander default, so `--help` shows ours rather than `[]`.
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .action((o: { by?: string[]; since?: string; format?: string; json?: boolean }) =>
      act(async () => (await import("./commands/analytics.js")).analyticsCommand("cost", o), o),
    );
  report("check-failures", "recent gate failures with their output").action(
    (o: { format?: string; json?: boolean }) =>
      act(
        async () =>
          (await import("./commands/analytics.js")).analyticsCommand("check-failures", {}),
        o,
      ),
  );
  readable(
    analytics.command("issue-detail <n>").description("everything that happened to one task"),
  ).action((n: string, o: { format?: string; json?: boolean }) =>
    act(async () => (await import("./commands/analytics.js")).issueDetailCommand(taskNumber(n)), o),
  );

  const queue = program
    .command("queue")
    .description("the queue's settings: paused, stop_on_failure, max_concurrent");
  readable(queue.command("status").description("show the queue's settings")).action(
    (o: { format?: string; json?: boolean }) =>
      act(async () => (await import("./commands/queue.js")).queueStatusCommand, o),
  );
  queue
    .command("pause")
    .description("start no new pipelines or jobs; running ones finish")
    .action(() =>
      act(async () => (await import("./commands/queue.js")).queueSetCommand({ paused: true })),
    );
  queue
    .command("resume")
    .description("start work again")
    .action(() =>
      act(async () => (await import("./commands/queue.js")).queueSetCommand({ paused: false })),
    );
  queue
    .command("set")
    .description("change a setting")
    .option("--stop-on-failure <on|off>", "pause the queue when a pipeline fails")
    .option("--max-concurrent <n|off>", "override limits.max_running_jobs")
    .action((o: { stopOnFailure?: string; maxConcurrent?: string }) =>
      act(async () => (await import("./commands/queue.js")).queueSetFromFlags(o)),
    );

  return program;
}

export interface TaskAddOptions {
  bodyFile?: string;
  label: string[];
  pipeline?: string;
  agent?: string;
}

function report(out: Output, error: unknown): number {
  if (error instanceof ExitError) {
    return error.exitCode;
  }
  if (error instanceof CommanderError) {
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (error instanceof ConfigError) {
    for (const line of error.message.split("\n")) {
      out.error(line);
    }
    return EXIT.usage;
  }
  if (isUserError(error)) {
    out.error(`baton: ${(error as AppError).message}`);
    return EXIT.usage;
  }
  const e = coerceError(error);
  if (e instanceof InternalError) {
    out.error(
      `baton: internal error: ${e.message}\nThis is a bug in Baton; please report it with the command you ran.`,
    );
  } else {
    out.error(`baton: ${e.message}`);
  }
  if (process.env.BATON_DEBUG !== undefined && e.stack !== undefined) {
    out.error(e.stack);
  }
  return EXIT.failed;
}

/** Runs the CLI with `argv` (as in `process.argv`) and exits the process when done. */
export async function main(argv: readonly string[]): Promise<void> {
  let out = createOutput({
    noColor: process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "",
  });
  const controller = new AbortController();
  let received: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (received !== null) {
      // A second signal: stop waiting for the graceful shutdown.
      process.exit(signal === "SIGINT" ? 130 : 143);
    }
    received = signal;
    controller.abort(new Error(`received ${signal}`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  let code: number = EXIT.ok;
  try {
    const env = readCliEnv(process.env);
    out = createOutput({ noColor: env.noColor });
    const program = buildProgram(async (handler, format) => {
      await handler({ env, out, format, signal: controller.signal });
    });
    await program.parseAsync([...argv]);
  } catch (error) {
    code = report(out, error);
  }
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  if (received !== null) {
    // Shut down gracefully above; now end the way the signal asks (exit 130/143).
    process.kill(process.pid, received);
    return;
  }
  process.exitCode = code;
}
