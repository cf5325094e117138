/**
 * The `feature` pipeline: plan → implement → review → pr. A rejected review goes back to
 * implement with the review as context.
 */
import type { PipelineTemplate } from "./pipeline-template.js";
import { REWORK_SECTION, TASK_SECTION, TESTS_GATE, WORKTREE_RULES } from "./prompt-parts.js";
import { APPROVED_GATE, reviewPrompt } from "./review-gate.js";

const yaml = `# The feature pipeline: plan → implement → review → pull request.
# A review that requests changes sends the work back to implement, at most twice.
version: 1
defaults:
  pipeline: feature
pipelines:
  feature:
    stages:
      - id: plan
        prompt: prompts/plan.md
        outputs: [PLAN.md]
        timeout: 20m
      - id: implement
        needs: [plan]
        prompt: prompts/implement.md
        gates:
${TESTS_GATE}
        fix: { max_rounds: 3 }
        on_fail: escalate
      - id: review
        needs: [implement]
        prompt: prompts/review.md
        outputs: [REVIEW.md]
        gates:
${APPROVED_GATE}
        fix: { max_rounds: 0 } # the reviewer does not fix: its verdict goes back to implement
        on_fail: { route: implement, max: 2, then: escalate }
      - id: pr
        needs: [review]
        uses: open-pr
`;

const plan = `You are planning a feature for this repository. Do not write the code yet.

${TASK_SECTION}

## What to do

1. Read the code the feature touches, its tests, and the docs on how it should behave.
2. Write PLAN.md at the root of the repository:
   - **Goal**: the behaviour users will see when this is done.
   - **Design**: the approach, and why it fits the existing code better than the alternatives.
   - **Changes**: each file to add or change, and what changes in it.
   - **Tests**: the cases that prove it works, including edge cases and failures.
   - **Out of scope**: what this change deliberately leaves alone.
3. Where the task is ambiguous, pick the most reasonable reading and write it down under
   "Assumptions".

${WORKTREE_RULES}`;

const implement = `You are implementing a feature in this repository.

${TASK_SECTION}

## The plan

{{artifacts.plan.PLAN.md}}

${REWORK_SECTION}

## What to do

1. Implement the plan. If the code shows a better way, take it and say why in your commit.
2. Write the tests the plan lists; make sure each would fail without your change.
3. Run the tests and fix what fails before you finish.
4. Update the docs and the changelog if the project keeps them.

A reviewer reads the change next. If it requests changes, you get this prompt again with the
review above under "If this is a rework".

${WORKTREE_RULES}`;

/** Plan, implement with tests and fix rounds, review with a verdict, open a PR. */
export const featureTemplate: PipelineTemplate = {
  name: "feature",
  description: "plan → implement → review → pr; a rejected review goes back to implement",
  yaml,
  prompts: {
    "prompts/plan.md": plan,
    "prompts/implement.md": implement,
    "prompts/review.md": reviewPrompt("plan"),
  },
};
