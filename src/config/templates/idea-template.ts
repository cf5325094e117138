/**
 * The `idea` pipeline: from a one-paragraph idea to tested software, phase by phase, each
 * phase checked by a judge gate: intake → ideation → prd → architecture → build →
 * (security ∥ story-loop) → qa.
 */
import { IDEA_PROMPTS } from "./idea-prompts.js";
import type { PipelineTemplate } from "./pipeline-template.js";
import { TESTS_GATE } from "./prompt-parts.js";

/** One judge gate, indented for a gate list under a stage. */
function judgeGate(name: string, prompt: string, threshold = 0.7): string {
  return `          - name: ${name}
            judge: { prompt: prompts/${prompt}, pass_threshold: ${threshold} }
            timeout: 10m`;
}

const yaml = `# The idea pipeline: from an idea to tested software, one judged phase at a time.
# intake → ideation → prd → architecture → build → security and story-loop in parallel → qa.
# Each phase ends with a judge gate: another agent scores the phase's output, and a low score
# sends it back for a fix round with the judge's reasons.
version: 1
defaults:
  pipeline: idea
pipelines:
  idea:
    stages:
      - id: intake
        prompt: prompts/intake.md
        outputs: [INTAKE.md]
        gates:
${judgeGate("clear", "judge-intake.md")}
      - id: ideation
        needs: [intake]
        prompt: prompts/ideation.md
        outputs: [IDEAS.md]
        gates:
${judgeGate("promising", "judge-ideation.md")}
      - id: prd
        needs: [ideation]
        prompt: prompts/prd.md
        outputs: [PRD.md]
        gates:
${judgeGate("testable", "judge-prd.md", 0.75)}
      - id: architecture
        needs: [prd]
        prompt: prompts/architecture.md
        outputs: [ARCHITECTURE.md]
        gates:
${judgeGate("sound", "judge-architecture.md", 0.75)}
      - id: build
        needs: [architecture]
        prompt: prompts/build.md
        timeout: 2h
        gates:
${TESTS_GATE}
${judgeGate("follows-architecture", "judge-build.md")}
        fix: { max_rounds: 3 }
        on_fail: escalate
      - id: security
        needs: [build]
        prompt: prompts/security.md
        outputs: [SECURITY.md]
        gates:
${judgeGate("no-high-risk", "judge-security.md", 0.8)}
      - id: story-loop
        needs: [build]
        prompt: prompts/story-loop.md
        outputs: [STORIES.md]
        timeout: 2h
        gates:
${TESTS_GATE}
${judgeGate("stories-done", "judge-stories.md", 0.8)}
        fix: { max_rounds: 5 } # loop until every story is done
        on_fail: escalate
      - id: qa
        needs: [security, story-loop]
        prompt: prompts/qa.md
        outputs: [QA.md]
        gates:
${TESTS_GATE}
${judgeGate("release-ready", "judge-qa.md", 0.8)}
        fix: { max_rounds: 2 }
        on_fail: { route: story-loop, max: 2, then: escalate }
`;

/** Idea to software in judged phases, security review and story loop in parallel. */
export const ideaTemplate: PipelineTemplate = {
  name: "idea",
  description:
    "intake → ideation → prd → architecture → build → security ∥ story-loop → qa; every phase judged",
  yaml,
  prompts: IDEA_PROMPTS,
};
