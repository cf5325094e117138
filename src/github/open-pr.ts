/**
 * The `open-pr` built-in stage: push the task's branch to the project's `origin` and, when
 * `origin` is on GitHub and a token is available, open a pull request for it.
 */
import { z } from "zod";
import { runGit } from "../workspace/git.js";

export interface OpenPrInput {
  worktree: string;
  branch: string;
  title: string;
  body: string;
  /** Branch to merge into; the remote's default branch when not given. */
  base: string | null;
  token: string | null;
  apiUrl: string;
}

export type OpenPrResult =
  { ok: true; pushed: true; url: string | null; note: string } | { ok: false; error: string };

/** `owner/repo` of a GitHub remote URL (https or ssh), or `null` for other hosts. */
export function parseGithubRemote(url: string): { owner: string; repo: string } | null {
  const match = /github\.com[:/]([^/]+)\/([^/]+?)(?:\.git)?\/?$/.exec(url.trim());
  return match === null ? null : { owner: match[1] as string, repo: match[2] as string };
}

const pullResponse = z.object({ html_url: z.string() });
const repoResponse = z.object({ default_branch: z.string() });

/** Never throws for expected failures (no remote, push refused, API error): they come back as data. */
export async function openPullRequest(input: OpenPrInput): Promise<OpenPrResult> {
  const remote = await runGit(["remote", "get-url", "origin"], {
    cwd: input.worktree,
    allowFailure: true,
  });
  if (remote.exitCode !== 0) {
    return {
      ok: false,
      error:
        "open-pr: the project has no `origin` remote to push the branch to; add one with `git remote add origin <url>`",
    };
  }
  const push = await runGit(
    ["push", "--set-upstream", "origin", `${input.branch}:${input.branch}`],
    {
      cwd: input.worktree,
      allowFailure: true,
    },
  );
  if (push.exitCode !== 0) {
    return {
      ok: false,
      error: `open-pr: git push to origin failed: ${push.stderr.trim().split("\n").at(-1) ?? ""}`,
    };
  }
  const github = parseGithubRemote(remote.stdout);
  if (github === null) {
    return {
      ok: true,
      pushed: true,
      url: null,
      note: `pushed ${input.branch} to origin (not a GitHub remote, so no pull request was opened)`,
    };
  }
  if (input.token === null) {
    return {
      ok: true,
      pushed: true,
      url: null,
      note: `pushed ${input.branch}; set GITHUB_TOKEN to have Baton open the pull request`,
    };
  }
  const headers = {
    authorization: `Bearer ${input.token}`,
    accept: "application/vnd.github+json",
    "content-type": "application/json",
    "user-agent": "baton",
  };
  const repoUrl = `${input.apiUrl}/repos/${github.owner}/${github.repo}`;
  let base = input.base;
  if (base === null) {
    const repo = await fetch(repoUrl, { headers });
    const parsed = repoResponse.safeParse(repo.ok ? await repo.json() : null);
    if (!parsed.success) {
      return {
        ok: false,
        error: `open-pr: could not read ${github.owner}/${github.repo} from GitHub (HTTP ${repo.status})`,
      };
    }
    base = parsed.data.default_branch;
  }
  const response = await fetch(`${repoUrl}/pulls`, {
    method: "POST",
    headers,
    body: JSON.stringify({ title: input.title, body: input.body, head: input.branch, base }),
  });
  const parsed = pullResponse.safeParse(response.ok ? await response.json() : null);
  if (!parsed.success) {
    const text = response.ok ? "" : await response.text();
    return {
      ok: false,
      error: `open-pr: GitHub refused the pull request (HTTP ${response.status}) ${text.slice(0, 300)}`,
    };
  }
  return {
    ok: true,
    pushed: true,
    url: parsed.data.html_url,
    note: `opened ${parsed.data.html_url}`,
  };
}
