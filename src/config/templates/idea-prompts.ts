/**
 * Prompts of the `idea` template: one per phase, and one per phase's judge. Each phase reads
 * the documents of the phases before it and writes its own.
 */
import { JUDGE_ANSWER, REWORK_SECTION, TASK_SECTION, WORKTREE_RULES } from "./prompt-parts.js";

const intake = `You are turning a raw idea into a clear brief. Do not design or build anything yet.

${TASK_SECTION}

## What to do

Write INTAKE.md at the root of the repository:

- **Problem**: who has it, and what it costs them today.
- **Users**: the main kinds of user, and what each wants to get done.
- **Constraints**: platform, language, budget, deadlines, anything the idea or the existing
  repository fixes in advance.
- **Success**: how we will know it works, as measurable statements.
- **Unknowns**: questions the idea leaves open, each with the answer you will assume.

Keep it under two pages. Prefer the plainest reading of the idea over an ambitious one.

${WORKTREE_RULES}`;

const ideation = `You are exploring ways to solve the problem in the brief, then choosing one.

## The brief

{{artifacts.intake.INTAKE.md}}

${REWORK_SECTION}

## What to do

Write IDEAS.md:

1. Three to five distinct approaches. For each: how it works, what it is good at, its risks,
   and a rough size (small, medium, large).
2. A comparison against the brief's success criteria and constraints.
3. **Choice**: the approach to build, and why. Name what it deliberately leaves out.

${WORKTREE_RULES}`;

const prd = `You are writing the product requirements for the chosen approach.

## The brief

{{artifacts.intake.INTAKE.md}}

## The options and the choice

{{artifacts.ideation.IDEAS.md}}

${REWORK_SECTION}

## What to do

Write PRD.md:

- **Scope**: what the first release does and does not do.
- **User stories**, numbered (S1, S2, ...): "As a <user>, I want <goal>, so that <reason>",
  each with acceptance criteria a test can check.
- **Non-functional requirements**: performance, security, accessibility, operations.
- **Release plan**: which stories make the first usable version.

Every story must be small enough to build and test in one session.

${WORKTREE_RULES}`;

const architecture = `You are designing the software that meets the requirements.

## The requirements

{{artifacts.prd.PRD.md}}

${REWORK_SECTION}

## What to do

Look at what the repository already has (languages, frameworks, conventions) and build on it.
Write ARCHITECTURE.md:

- **Components**: each part, what it owns, and how the parts talk to each other.
- **Data**: the main entities, where they are stored, and how they change.
- **Interfaces**: APIs, commands or screens, with their inputs, outputs and errors.
- **Decisions**: each important choice, the alternatives, and why this one.
- **Layout**: the directories and files to create, and the test setup.
- **Story map**: which components each PRD story touches.

${WORKTREE_RULES}`;

const build = `You are building the foundation of the software: the skeleton every story will use.

## The requirements

{{artifacts.prd.PRD.md}}

## The architecture

{{artifacts.architecture.ARCHITECTURE.md}}

${REWORK_SECTION}

## What to do

1. Create the layout the architecture describes: project files, build, lint and test setup.
2. Implement the components and interfaces with the first release's most central story
   working end to end, with tests.
3. Make the test command work from a clean checkout, and document it in the README.

Other stories come next, in a loop, so leave clear extension points rather than stubs
everywhere.

${WORKTREE_RULES}`;

const security = `You are reviewing the software's security, and fixing what you find.

## The architecture

{{artifacts.architecture.ARCHITECTURE.md}}

## What to do

1. Review the code on this branch for: injection (SQL, shell, HTML), missing authentication or
   authorisation checks, secrets in code or logs, unsafe deserialisation, path traversal,
   unbounded input, and vulnerable dependencies (run the ecosystem's audit tool if there is one).
2. Fix every high-risk finding, with a test where one can show the fix.
3. Write SECURITY.md: each finding with its severity (high, medium, low), the file, and
   whether you fixed it or why it can wait.

Another agent is implementing stories on the same branch at the same time: keep your changes
small and do not restructure code.

${WORKTREE_RULES}`;

const storyLoop = `You are implementing the requirements' user stories, one at a time, until all are done.

## The requirements

{{artifacts.prd.PRD.md}}

## The architecture

{{artifacts.architecture.ARCHITECTURE.md}}

${REWORK_SECTION}

## What to do

1. Read STORIES.md if it exists: it records which stories are done.
2. Take the next story that is not done. Implement it with tests for each acceptance
   criterion, run the tests, and commit.
3. Update STORIES.md: each story's id, status (done, in progress, blocked) and the tests that
   prove it. Repeat with the next story while you have time.

The judge checks STORIES.md against the requirements; any story not done comes back to you
in the next round.

${WORKTREE_RULES}`;

const qa = `You are doing the final quality check before release.

## The requirements

{{artifacts.prd.PRD.md}}

## Stories done

{{artifacts.story-loop.STORIES.md}}

## Security review

{{artifacts.security.SECURITY.md}}

${REWORK_SECTION}

## What to do

1. Run the full test suite, then use the software the way a user would: follow the README
   from a clean checkout, and walk through every story's acceptance criteria.
2. Fix small defects you find, with tests.
3. Write QA.md: what you checked, what passed, defects fixed, defects left (with steps to
   reproduce), and whether the release is ready.

${WORKTREE_RULES}`;

function judge(what: string, criteria: string): string {
  return `You are a strict reviewer judging ${what}. Do not change any file.

${TASK_SECTION}

## The criteria

${criteria}

${JUDGE_ANSWER}`;
}

const judgeIntake = judge(
  "a project brief (INTAKE.md)",
  `{{artifacts.intake.INTAKE.md}}

- The problem, users and success criteria are specific and measurable.
- Every unknown has an assumed answer.
- Nothing in the brief contradicts the idea in the task.`,
);

const judgeIdeation = judge(
  "a set of approaches and the choice among them (IDEAS.md)",
  `{{artifacts.ideation.IDEAS.md}}

- The approaches are genuinely different, not variations of one.
- The choice follows from the comparison and fits the brief's constraints:

{{artifacts.intake.INTAKE.md}}`,
);

const judgePrd = judge(
  "product requirements (PRD.md)",
  `{{artifacts.prd.PRD.md}}

- Every story has acceptance criteria a test can check.
- The stories together cover the chosen approach in IDEAS.md, and nothing outside scope:

{{artifacts.ideation.IDEAS.md}}`,
);

const judgeArchitecture = judge(
  "a software architecture (ARCHITECTURE.md)",
  `{{artifacts.architecture.ARCHITECTURE.md}}

- Every story in the requirements maps to components that can deliver it.
- Decisions name their alternatives, and the design fits the repository's existing stack.
- It is no more complex than the requirements need:

{{artifacts.prd.PRD.md}}`,
);

const judgeBuild = judge(
  "the foundation built on this branch",
  `Read the code on this branch (git diff against its base) and compare it with the architecture:

{{artifacts.architecture.ARCHITECTURE.md}}

- The layout, components and interfaces match the architecture, or deviations are justified.
- The central story works end to end and has tests.
- The README says how to build and test from a clean checkout.`,
);

const judgeSecurity = judge(
  "a security review (SECURITY.md) and the code it covers",
  `{{artifacts.security.SECURITY.md}}

- The review covered injection, access control, secrets, input limits and dependencies.
- No high-severity finding is left unfixed; check the code, not only the report.`,
);

const judgeStories = judge(
  "progress on user stories (STORIES.md) against the requirements",
  `Requirements:

{{artifacts.prd.PRD.md}}

Progress:

{{artifacts.story-loop.STORIES.md}}

- Every story of the first release is marked done. Pass only if that is so.
- For each story marked done, a test exists for each acceptance criterion; spot-check them
  in the code. List every story not done, by id, in the reasons.`,
);

const judgeQa = judge(
  "release readiness (QA.md)",
  `{{artifacts.qa.QA.md}}

- The full test suite passed, and every story's acceptance criteria were walked through.
- No defect left open blocks a user from completing a story.
- The README instructions work from a clean checkout.`,
);

/** Prompt texts by the path the idea template's YAML names them with. */
export const IDEA_PROMPTS: Readonly<Record<string, string>> = {
  "prompts/intake.md": intake,
  "prompts/ideation.md": ideation,
  "prompts/prd.md": prd,
  "prompts/architecture.md": architecture,
  "prompts/build.md": build,
  "prompts/security.md": security,
  "prompts/story-loop.md": storyLoop,
  "prompts/qa.md": qa,
  "prompts/judge-intake.md": judgeIntake,
  "prompts/judge-ideation.md": judgeIdeation,
  "prompts/judge-prd.md": judgePrd,
  "prompts/judge-architecture.md": judgeArchitecture,
  "prompts/judge-build.md": judgeBuild,
  "prompts/judge-security.md": judgeSecurity,
  "prompts/judge-stories.md": judgeStories,
  "prompts/judge-qa.md": judgeQa,
};
