import { resolve } from "node:path";
import { configJsonSchema } from "../../config/json-schema.js";
import { findConfigFile, readConfig } from "../../config/read-config.js";
import { AppError, ErrorCodes, formatConfigIssue } from "../../core/errors.js";
import { EXIT, ExitError } from "../exit-error.js";
import type { CommandInput } from "../main.js";

/** `baton config validate`: every problem at once, `file:line:col: path: message`; writes nothing. */
export function validateCommand(options: { file?: string }) {
  return async (input: CommandInput): Promise<void> => {
    const file =
      options.file === undefined ? await findConfigFile(process.cwd()) : resolve(options.file);
    if (file === null) {
      throw new AppError(
        ErrorCodes.CONFIG_NOT_FOUND,
        `no baton.yaml in ${process.cwd()} or its parents (up to the git top level); run \`baton init\` to create one`,
      );
    }
    const result = await readConfig(file);
    for (const warning of result.warnings) {
      input.out.error(`warning: ${formatConfigIssue(warning)}`);
    }
    if (!result.ok) {
      for (const issue of result.errors) {
        input.out.error(formatConfigIssue(issue));
      }
      input.out.error(
        `${result.errors.length} problem${result.errors.length === 1 ? "" : "s"} in ${file}`,
      );
      throw new ExitError(EXIT.usage);
    }
    const pipelines = Object.keys(result.value.pipelines).join(", ");
    input.out.line(`${file} is valid (pipelines: ${pipelines}).`);
  };
}

/** `baton config schema`: the JSON Schema of baton.yaml. */
export function schemaCommand(input: CommandInput): Promise<void> {
  input.out.json(configJsonSchema());
  return Promise.resolve();
}
