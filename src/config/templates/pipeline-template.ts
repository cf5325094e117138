/** A built-in pipeline template: a `baton.yaml` and the prompt files it names. */
export interface PipelineTemplate {
  name: string;
  /** One line for listings and `baton init --help`. */
  description: string;
  /** The `baton.yaml` text `baton init --template <name>` writes. */
  yaml: string;
  /** Prompt texts by path as the YAML names them, such as `prompts/plan.md`. */
  prompts: Readonly<Record<string, string>>;
}
