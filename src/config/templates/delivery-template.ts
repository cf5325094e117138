/**
 * The `delivery` pipeline: starter → coding → reviewer → deployer → verifier, with review
 * changes routed back to coding, and an auditor that runs when verification fails or when a
 * job asks for one (`baton job spawn --stage auditor`).
 */
import type { PipelineTemplate } from "./pipeline-template.js";
import { REWORK_SECTION, TASK_SECTION, TESTS_GATE, WORKTREE_RULES } from "./prompt-parts.js";
import { APPROVED_GATE, reviewPrompt } from "./review-gate.js";

const yaml = `# The delivery pipeline: starter → coding → reviewer → deployer → verifier.
# A review that requests changes goes back to coding. The auditor runs when verification
# fails, or when any job asks for an audit with: baton job spawn --stage auditor --context "..."
version: 1
defaults:
  pipeline: delivery
pipelines:
  delivery:
    stages:
      - id: starter
        prompt: prompts/starter.md
        outputs: [PLAN.md]
        timeout: 20m
      - id: coding
        needs: [starter]
        prompt: prompts/coding.md
        gates:
${TESTS_GATE}
        fix: { max_rounds: 3 }
        on_fail: escalate
      - id: reviewer
        needs: [coding]
        prompt: prompts/reviewer.md
        outputs: [REVIEW.md]
        gates:
${APPROVED_GATE}
        fix: { max_rounds: 0 }
        on_fail: { route: coding, max: 3, then: escalate }
      - id: deployer
        needs: [reviewer]
        prompt: prompts/deployer.md
        outputs: [DEPLOY.md]
        timeout: 30m
        on_fail: { retry: { max: 2, backoff: { base: 1m }, then: escalate } }
      - id: verifier
        needs: [deployer]
        prompt: prompts/verifier.md
        outputs: [VERIFY.md]
        gates:
          - name: verified
            run: "grep -q '^VERDICT: PASS' VERIFY.md || { cat VERIFY.md; exit 1; }"
            timeout: 1m
        fix: { max_rounds: 0 }
      - id: auditor
        needs: [{ stage: verifier, when: failure }]
        prompt: prompts/auditor.md
        outputs: [AUDIT.md]
`;

const starter = `You are starting work on a task: understand it, plan it, and decide whether it needs an
audit. Do not write the code yet.

${TASK_SECTION}

## What to do

1. Read the code and docs the task touches, and how the project is built, tested and deployed
   (README, CI workflows, deploy scripts).
2. Write PLAN.md at the root of the repository:
   - **Goal** and **acceptance criteria**: checks a verifier can run after deployment.
   - **Changes**: each file to add or change.
   - **Tests** to add, and the commands that run them.
   - **Deployment**: how this change reaches the target environment, and how to roll it back.
   - **Risks** and assumptions.
3. If the task touches security, money, data migrations or access control, or the code around
   it looks fragile, ask for an audit now:

   baton job spawn --stage auditor --context "<what to audit and why>"

${WORKTREE_RULES}`;

const coding = `You are the coding agent: implement the planned change.

${TASK_SECTION}

## The plan

{{artifacts.starter.PLAN.md}}

${REWORK_SECTION}

## What to do

1. Implement the plan, including its tests. Keep the change to what the plan needs.
2. Run the tests and fix failures before you finish.
3. If the plan's deployment notes need code (a migration, a feature flag, config), write it.

A reviewer reads your change next; if it requests changes, you get them above.

${WORKTREE_RULES}`;

const deployer = `You are the deployer: put the reviewed change into the target environment.

${TASK_SECTION}

## The plan

{{artifacts.starter.PLAN.md}}

## What to do

1. Find how this project deploys: the plan's "Deployment" section, the README, CI workflows,
   deploy scripts or a Makefile target. Use the staging or preview environment when there is
   one; never production unless the project's docs say this pipeline deploys there.
2. Run the deployment, and wait until it has finished and is healthy.
3. Write DEPLOY.md: what you deployed (commit), where (environment, URL), the commands you ran,
   and how to roll it back.
4. If the project has no way to deploy, do not invent one: write DEPLOY.md saying so, and
   describe how a person could try the change locally instead.

Stop with an error if the deployment fails; do not retry destructive steps yourself.

${WORKTREE_RULES}`;

const verifier = `You are the verifier: check that the deployed change does what the task asked.

${TASK_SECTION}

## The plan and its acceptance criteria

{{artifacts.starter.PLAN.md}}

## The deployment

{{artifacts.deployer.DEPLOY.md}}

## What to do

1. Check each acceptance criterion against the deployed environment (or, where DEPLOY.md says
   there is none, against a local run): call the endpoints, run the commands, read the logs.
2. Look for regressions next to the change: related pages, endpoints and jobs.
3. Write VERIFY.md. Its first line is exactly "VERDICT: PASS" or "VERDICT: FAIL". Then, for
   each criterion: what you did, what you saw, and whether it passed.

Do not change the code. A failed verification goes to the auditor, with your VERIFY.md.`;

const auditor = `You are the auditor: find what is wrong, and why, before anyone fixes it.

${TASK_SECTION}

## Why you were called

{{spawn.context}}

## What verification found (empty when an audit was requested earlier)

{{artifacts.verifier.VERIFY.md}}

## What to do

1. Read the change on this branch and the code around it.
2. Look for: incorrect behaviour, security problems (injection, missing access checks, secrets
   in code or logs), data loss or migration hazards, and missing tests.
3. For a failed verification, find the root cause: the first point where actual behaviour
   departs from the plan.
4. Write AUDIT.md: each finding with its severity (high, medium, low), the file and line,
   evidence, and the fix you recommend. End with the order in which to fix them.

Do not change the code; report only.`;

/** The multi-agent delivery flow, with review routing and a failure audit. */
export const deliveryTemplate: PipelineTemplate = {
  name: "delivery",
  description:
    "starter → coding → reviewer → deployer → verifier; reviews route back to coding, an auditor on failure or request",
  yaml,
  prompts: {
    "prompts/starter.md": starter,
    "prompts/coding.md": coding,
    "prompts/reviewer.md": reviewPrompt("starter"),
    "prompts/deployer.md": deployer,
    "prompts/verifier.md": verifier,
    "prompts/auditor.md": auditor,
  },
};
