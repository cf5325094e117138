import { describe, expect, it } from "vitest";
import { findUnportableEnvNames, makeWrapperArgs, WRAPPER_SCRIPT } from "./wrapper-script.js";

describe("makeWrapperArgs", () => {
  it("puts the script, the directory, shell-managed variables and then argv after --", () => {
    expect(
      makeWrapperArgs("/s", { PATH: "/bin", PWD: "/p", IFS: "" }, ["prog", "--", "$x"]),
    ).toEqual([
      "-c",
      WRAPPER_SCRIPT,
      "baton-session",
      "/s",
      "PWD=/p",
      "IFS=",
      "--",
      "prog",
      "--",
      "$x",
    ]);
  });
});

describe("findUnportableEnvNames", () => {
  it("lists names a POSIX shell would drop", () => {
    expect(findUnportableEnvNames({ OK_1: "", _x: "", "A-B": "", "1X": "", "a.b": "" })).toEqual([
      "A-B",
      "1X",
      "a.b",
    ]);
  });
});
