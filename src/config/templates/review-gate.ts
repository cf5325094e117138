/**
 * The review step shared by the feature and delivery templates: the reviewer writes a verdict
 * into REVIEW.md, a gate reads it, and a rejected review goes back to the coding stage with
 * the review as its failure output.
 */
import { TASK_SECTION } from "./prompt-parts.js";

/** Gate YAML, indented for a gate list under a stage. Prints the review when it rejects. */
export const APPROVED_GATE = `          - name: approved
            run: "grep -q '^VERDICT: APPROVE' REVIEW.md || { cat REVIEW.md; exit 1; }"
            timeout: 1m`;

/** A reviewer's prompt; `planner` is the stage whose PLAN.md the change followed. */
export function reviewPrompt(planner: string): string {
  return `You are reviewing the change made on this branch. You do not change the code: you decide
whether it is ready, and if not, say exactly what must change.

${TASK_SECTION}

## The plan

{{artifacts.${planner}.PLAN.md}}

## What to do

1. Read the diff of this branch against its base (git log and git diff), and the tests.
2. Check, in order:
   - It does what the task asks, all of it, and nothing unrelated.
   - Errors and edge cases are handled; nothing fails silently.
   - New behaviour has tests, and the tests would fail without the change.
   - No secrets, debug output, commented-out code, or needless complexity.
3. Write REVIEW.md. Its first line is exactly one of:

   VERDICT: APPROVE
   VERDICT: CHANGES_REQUESTED

   Then list each required change as a bullet with the file and line, what is wrong, and what
   to do instead. Put optional suggestions under a separate "Suggestions" heading; they do not
   block approval.

Approve when the change is correct and safe to merge, even if you would have written it
differently. Do not edit any file other than REVIEW.md.`;
}
