/**
 * The starter `baton init` writes: plan → implement (with a test gate and fix rounds) →
 * review, commented so a new user can read what every key does.
 */
import type { PipelineTemplate } from "./pipeline-template.js";
import { REWORK_SECTION, TASK_SECTION, WORKTREE_RULES } from "./prompt-parts.js";

const yaml = `# baton.yaml: how Baton runs coding agents on this repository.
#
# Each task (baton run "...", a GitHub issue, a PR review asking for changes) gets its own git
# worktree and branch, then goes through a pipeline: stages that run agents and checks there.
# Check this file with "baton config validate"; "baton config schema" prints a JSON Schema
# your editor can use for completion.

version: 1 # the format of this file; must be 1

defaults:
  # The agent of stages that name none: claude, codex, opencode, aider, gemini, or one you
  # define under "agents" below.
  agent: claude
  # Where agent sessions run: auto (tmux when installed, so "baton session attach" can show
  # you a live session), process, or tmux.
  runtime: auto
  # Wall-clock limit of one agent session. At the limit the agent is asked to wrap up, then
  # stopped "grace" later. Durations are a number and a unit: 90s, 10m, 1h30m, 2d.
  timeout: 45m
  # No output for this long counts as a stall, handled like a timeout.
  stall_timeout: 10m
  grace: 2m
  # Commit whatever an agent left uncommitted when its job ends.
  commit: true
  # The pipeline a task uses when it names none; "baton run --pipeline NAME" picks another.
  # Built in, without defining them here: feature, delivery, idea.
  pipeline: default

limits:
  max_running_pipelines: 3 # tasks worked on at once
  max_running_jobs: 6 # stage jobs at once, over all pipelines
  # per_agent: { claude: 2, codex: 2 } # jobs at once per agent

# agents: # change a built-in agent, or make any command an agent
#   claude:
#     model: opus
#   my-agent:
#     # The argv to run, no shell. Placeholders: {prompt_file} {worktree} {task} {stage}
#     # {model}; without {prompt_file} the prompt arrives on stdin.
#     command: ["node", "tools/my-agent.mjs", "{prompt_file}"]
#     pass_env: [OPENAI_API_KEY] # Baton's environment variables the agent may see

pipelines:
  default:
    stages:
      # 1. Plan. An agent stage: "prompt" is a file next to this one, with variables such
      #    as {{task.title}} filled in. Files matching "outputs" are kept as artifacts, and
      #    later prompts read them as {{artifacts.plan.PLAN.md}}.
      - id: plan
        prompt: prompts/plan.md
        outputs: [PLAN.md]
        timeout: 20m # overrides defaults.timeout for this stage

      # 2. Implement, once plan has succeeded ("needs"; stages without needs between them
      #    run in parallel). After the agent, the "gates" run in order. When one fails, the
      #    agent gets its output in a fix round, up to fix.max_rounds, and the gates run again.
      - id: implement
        needs: [plan]
        prompt: prompts/implement.md
        gates:
          # Replace with your project's test command: any shell command, exit 0 passes.
          - name: test
            run: npm test
            timeout: 10m
          # - name: lint
          #   run: npm run lint
          #   autofix: npm run lint -- --fix # tried once before a fix round
        fix:
          max_rounds: 3
        # Still failing after the fix rounds: escalate to a person (the task waits in
        # needs_review until "baton task unblock"). Other choices: fail (the default),
        # retry, { retry: 3 }, or { route: <earlier stage>, max: 2 }.
        on_fail: escalate

      # 3. Review the change with fresh eyes. Add "agent: codex" to have another agent do it.
      - id: review
        needs: [implement]
        prompt: prompts/review.md
        outputs: [REVIEW.md]

      # 4. Push the branch and open a pull request. Uncomment once the repository is on
      #    GitHub and Baton has a token ("baton doctor" checks).
      # - id: pr
      #   needs: [review]
      #   uses: open-pr
`;

const plan = `You are planning a change to this repository. Do not write the code yet.

${TASK_SECTION}

## What to do

1. Read the parts of the repository the task touches: the code, its tests, and any docs that
   describe how things are meant to work.
2. Write PLAN.md at the root of the repository with:
   - **Goal**: what will be true when the task is done, in two or three sentences.
   - **Changes**: each file to add or change, and what changes in it.
   - **Tests**: the tests to add or update, and how to run them.
   - **Risks**: what could break, and open questions with the answer you assumed.
3. Keep the plan small enough to carry out in one session. If the task is too big, plan the
   first useful step and list the rest under "Later".

${WORKTREE_RULES}`;

const implement = `You are implementing a change to this repository.

${TASK_SECTION}

## The plan

{{artifacts.plan.PLAN.md}}

${REWORK_SECTION}

## What to do

1. Follow the plan. Where the code shows the plan is wrong, do what is right and note why.
2. Add or update tests for the behaviour you change, and run them.
3. Leave the code as clean as you found it: no debug output, no commented-out code.

After you finish, Baton runs the project's checks. If one fails, you get its output and
another round to fix it.

${WORKTREE_RULES}`;

const review = `You are reviewing a change made on this branch for the task below.

${TASK_SECTION}

## The plan it followed

{{artifacts.plan.PLAN.md}}

## What to do

1. Read the diff of this branch against its base (git log and git diff).
2. Check that it does what the task asks, handles errors and edge cases, has tests for the
   new behaviour, and does not change unrelated code.
3. Fix small problems yourself (a missing test, a typo, an unhandled case) and commit.
4. Write REVIEW.md: what you checked, what you fixed, and anything a person should look at
   before merging.

${WORKTREE_RULES}`;

/** The starter pipeline: plan → implement (gated, fixed up to 3 rounds) → review. */
export const defaultTemplate: PipelineTemplate = {
  name: "default",
  description: "plan → implement (tests gate, fix rounds) → review; the starter, fully commented",
  yaml,
  prompts: {
    "prompts/plan.md": plan,
    "prompts/implement.md": implement,
    "prompts/review.md": review,
  },
};
