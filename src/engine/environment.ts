/**
 * The environment a session gets: a short allow-list of Baton's own variables (PATH, HOME,
 * locale, terminal), what the agent's config passes through by name, the agent's own `env`,
 * the adapter's additions, and Baton's job variables. Nothing else leaks in, so tokens in
 * Baton's environment (GitHub, the API token, database URLs) stay out unless configured.
 */
const ALLOWED = [
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "SHELL",
  "LANG",
  "LANGUAGE",
  "TERM",
  "TZ",
  "TMPDIR",
  "COLORTERM",
];

export function sessionEnvironment(input: {
  base: Readonly<Record<string, string | undefined>>;
  passEnv: readonly string[];
  agentEnv: Readonly<Record<string, string>>;
  adapterEnv: Readonly<Record<string, string>>;
  job: Readonly<Record<string, string>>;
  /** Directories put in front of PATH (Baton's own `bin` with the `baton` shim). */
  pathPrefix: readonly string[];
}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.base)) {
    if (
      value !== undefined &&
      (ALLOWED.includes(name) || name.startsWith("LC_") || input.passEnv.includes(name))
    ) {
      env[name] = value;
    }
  }
  Object.assign(env, input.agentEnv, input.adapterEnv, input.job);
  const path = env.PATH ?? "/usr/local/bin:/usr/bin:/bin";
  env.PATH = [...input.pathPrefix, path].join(":");
  return env;
}
