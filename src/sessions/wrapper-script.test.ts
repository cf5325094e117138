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

describe("makeWrapperArgs for a shell command", () => {
  it("passes `/bin/sh -c <command>` as `-c <command>`, for the wrapper's own shell to run", () => {
    expect(makeWrapperArgs("/s", { PWD: "/p" }, ["/bin/sh", "-c", "npm test && echo $#"])).toEqual([
      "-c",
      WRAPPER_SCRIPT,
      "baton-session",
      "/s",
      "PWD=/p",
      "-c",
      "npm test && echo $#",
    ]);
  });

  it("passes any other argv as it is, even one that starts like a shell command", () => {
    expect(makeWrapperArgs("/s", {}, ["/bin/sh", "-c", "true", "name"])).toEqual([
      "-c",
      WRAPPER_SCRIPT,
      "baton-session",
      "/s",
      "--",
      "/bin/sh",
      "-c",
      "true",
      "name",
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
