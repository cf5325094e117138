/**
 * Checks a `baton.yaml` text in three steps (schema, normalise, rules) and returns every
 * problem at once, each located as `file:line:col: dot.path`. Pure: the caller reads the file
 * and its prompts (see `readConfig`).
 */
import { LineCounter, parseDocument, type Document } from "yaml";
import { formatConfigIssue, type ConfigIssue } from "../core/errors.js";
import type { BatonConfig } from "../core/pipeline-def.js";
import { BUILTIN_PIPELINE_NAMES } from "./builtins.js";
import { builtinPipeline } from "./builtin-pipelines.js";
import { locateNode } from "./locate-node.js";
import { normalizeConfig } from "./normalize.js";
import { parseTolerant } from "./parse-tolerant.js";
import type { RuleIssue } from "./rule-context.js";
import { runRules } from "./rules.js";
import { configSchema } from "./schema.js";
import { describeValue, type Path } from "./schema-issues.js";

/** A valid, normalised config and its warnings, or every error and warning found. */
export type ConfigResult =
  | { ok: true; value: BatonConfig; warnings: ConfigIssue[] }
  | { ok: false; errors: ConfigIssue[]; warnings: ConfigIssue[] };

/** What `validateConfig` checks: the text of `baton.yaml` and the prompt files it names. */
export interface ConfigInput {
  /** Absolute path of `baton.yaml`, used in issues and kept in the config. */
  file: string;
  /** Absolute path of the directory holding it; prompt paths are relative to it. */
  root: string;
  /** The file's text. */
  text: string;
  /** Each prompt path as written in the file → its text, or `null` when the file is missing. */
  prompts: ReadonlyMap<string, string | null>;
}

/**
 * Validates and normalises a `baton.yaml` text. On success the config also holds the built-in
 * pipelines (`feature`, `delivery`, `idea`) the file does not define. Errors and warnings are
 * sorted by file and position. Pure; never throws on any input.
 * @example
 * const result = validateConfig({ file, root, text, prompts });
 * if (!result.ok) throw new ConfigError(result.errors);
 */
export function validateConfig(input: ConfigInput): ConfigResult {
  const errors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const lineCounter = new LineCounter();
  const doc = parseDocument(input.text, { lineCounter, prettyErrors: false });
  const at = (offset: number | undefined): { line?: number; col?: number } =>
    offset === undefined ? {} : lineCounter.linePos(offset);
  for (const warning of doc.warnings) {
    warnings.push({ file: input.file, path: "", message: warning.message, ...at(warning.pos[0]) });
  }
  for (const error of doc.errors) {
    errors.push({
      file: input.file,
      path: "",
      message: `invalid YAML: ${error.message}`,
      ...at(error.pos[0]),
    });
  }
  if (errors.length > 0) {
    return failed(errors, warnings, input.file);
  }
  const plain = toPlain(doc);
  if (!plain.ok || !isMapping(plain.value)) {
    const message = !plain.ok
      ? `cannot read the YAML: ${plain.message}`
      : plain.value === null || plain.value === undefined
        ? "the file is empty; add 'version: 1' and your pipelines, or run 'baton init' for a starter"
        : `the file holds ${describeValue(plain.value)}, but baton.yaml is a mapping with keys such as version, defaults and pipelines`;
    errors.push({ file: input.file, path: "", message, ...at(doc.contents?.range?.[0]) });
    return failed(errors, warnings, input.file);
  }

  const parsed = parseTolerant(configSchema, plain.value);
  const locate = (issue: RuleIssue, inputPath: Path): ConfigIssue => {
    const path = inputPath.join(".");
    if (issue.file !== undefined) {
      return { file: issue.file, path, message: issue.message, line: issue.line, col: issue.col };
    }
    const position = locateNode(doc, lineCounter, inputPath, issue.atKey === true);
    return { file: input.file, path, message: issue.message, ...position };
  };
  for (const issue of parsed.issues) {
    errors.push(locate(issue, issue.path));
  }
  if (parsed.data === undefined) {
    return failed(errors, warnings, input.file);
  }
  const config = normalizeConfig(parsed.data, {
    file: input.file,
    root: input.root,
    prompt: (path) => ({ path, template: input.prompts.get(path) ?? "" }),
  });
  runRules({
    raw: parsed.data,
    config,
    prompts: input.prompts,
    error: (issue) => errors.push(locate(issue, parsed.toInputPath(issue.path))),
    warning: (issue) => warnings.push(locate(issue, parsed.toInputPath(issue.path))),
  });
  if (errors.length > 0) {
    return failed(errors, warnings, input.file);
  }
  for (const name of BUILTIN_PIPELINE_NAMES) {
    config.pipelines[name] ??= builtinPipeline(name, config.defaults, config.agents);
  }
  return { ok: true, value: config, warnings: tidy(warnings, input.file) };
}

/**
 * Every prompt path `text` names (stage, fix and judge prompts), in order, without repeats.
 * Tolerant: reads what it can from an invalid file, and never throws.
 */
export function listPromptPaths(text: string): string[] {
  const paths = new Set<string>();
  const add = (value: unknown): void => {
    if (typeof value === "string" && value !== "") {
      paths.add(value);
    }
  };
  const plain = toPlain(parseDocument(text, { prettyErrors: false }));
  add(plain.ok ? field(field(plain.value, "router"), "prompt") : undefined);
  const pipelines = plain.ok ? field(plain.value, "pipelines") : undefined;
  for (const pipeline of isMapping(pipelines) ? Object.values(pipelines) : []) {
    const stages = field(pipeline, "stages");
    for (const stage of Array.isArray(stages) ? stages : []) {
      add(field(stage, "prompt"));
      add(field(field(stage, "fix"), "prompt"));
      const gates = field(stage, "gates");
      for (const gate of Array.isArray(gates) ? gates : []) {
        add(field(field(gate, "judge"), "prompt"));
      }
    }
  }
  return [...paths];
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function field(value: unknown, key: string): unknown {
  return isMapping(value) ? value[key] : undefined;
}

/** The document as plain values. */
function toPlain(doc: Document): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: 100 }) };
  } catch (error) {
    // toJS throws on an alias to an anchor defined later or nowhere, and on alias bombs.
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
}

function failed(errors: ConfigIssue[], warnings: ConfigIssue[], file: string): ConfigResult {
  return { ok: false, errors: tidy(errors, file), warnings: tidy(warnings, file) };
}

/** Without repeats, and in reading order: the config file first, then by file and position. */
function tidy(issues: readonly ConfigIssue[], file: string): ConfigIssue[] {
  const unique = new Map(issues.map((issue) => [formatConfigIssue(issue), issue]));
  return [...unique.values()].sort(
    (a, b) =>
      Number(a.file !== file) - Number(b.file !== file) ||
      a.file.localeCompare(b.file) ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.col ?? 0) - (b.col ?? 0),
  );
}
