// @ts-check
import js from "@eslint/js";
import n from "eslint-plugin-n";
import tseslint from "typescript-eslint";

/** Layers a folder under src/ must not import, so dependencies point one way. */
const forbidden = {
  core: [
    "config",
    "store",
    "engine",
    "sessions",
    "agents",
    "workspace",
    "github",
    "server",
    "cli",
    "lib",
  ],
  lib: [
    "core",
    "config",
    "store",
    "engine",
    "sessions",
    "agents",
    "workspace",
    "github",
    "server",
    "cli",
  ],
  config: ["store", "engine", "sessions", "agents", "workspace", "github", "server", "cli"],
  store: ["config", "engine", "sessions", "agents", "workspace", "github", "server", "cli"],
  sessions: ["engine", "agents", "workspace", "github", "server", "cli"],
  agents: ["engine", "workspace", "github", "server", "cli"],
  workspace: ["engine", "sessions", "agents", "github", "server", "cli"],
  github: ["engine", "sessions", "agents", "server", "cli"],
  engine: ["server", "cli"],
  server: ["cli"],
};

const layerRules = Object.entries(forbidden).map(([layer, banned]) => ({
  files: [`src/${layer}/**/*.ts`],
  rules: {
    "no-restricted-imports": [
      "error",
      {
        patterns: [
          {
            group: banned.flatMap((b) => [`../${b}/*`, `../../${b}/*`, `../${b}`, `../../${b}`]),
            message: `src/${layer} must not import this layer (see STYLE.md §1).`,
          },
          ...(layer === "core"
            ? [{ group: ["node:*"], message: "src/core does no I/O: pass the value in instead." }]
            : []),
        ],
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/", "web/dist/"] },
  { linterOptions: { reportUnusedDisableDirectives: "error" } },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ["*.js", "bin/*.js"] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { n },
    rules: {
      curly: ["error", "all"],
      "n/prefer-node-protocol": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_" },
      ],
      "no-restricted-syntax": [
        "error",
        {
          selector: "TSEnumDeclaration",
          message: "Use an `as const` object or a union instead of enum.",
        },
        { selector: "TSModuleDeclaration[kind='namespace']", message: "No namespaces." },
      ],
    },
  },
  ...layerRules,
  {
    files: ["src/**/*.ts"],
    ignores: ["src/cli/**"],
    rules: {
      "no-restricted-properties": [
        "error",
        { object: "process", property: "exit", message: "Only src/cli may exit the process." },
      ],
      "no-console": "error",
    },
  },
  {
    files: ["src/cli/**/*.ts"],
    ignores: ["src/cli/output.ts", "src/cli/main.ts"],
    rules: { "no-console": "error" },
  },
  {
    files: ["bin/*.js", "bench/**/*.js"],
    languageOptions: { globals: { process: "readonly", console: "readonly" } },
  },
);
