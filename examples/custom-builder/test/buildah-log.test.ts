// Reading buildah's output: steps (also in multi-stage builds), the first error across lines, the exit
// status, and secrets masked in every line. The lines are buildah 1.28.2's (Debian 12).

import { createRedactor } from "@imagespec/core/kit";
import { describe, expect, it } from "vitest";
import { BuildahLog } from "../src/buildah-log.ts";

const none = (text: string) => text;

describe("BuildahLog", () => {
  it("names the step of each line, in multi-stage builds too, and none after COMMIT", () => {
    const log = new BuildahLog(none);
    const lines = [
      "[1/2] STEP 1/2: FROM localhost:5000/imagespec/python-base:bookworm AS one",
      "[1/2] STEP 2/2: RUN echo one > /one",
      "--> d136b62253d",
      "[2/2] STEP 1/2: FROM localhost:5000/imagespec/python-base:bookworm",
      "[2/2] STEP 2/2: RUN --mount=from=one,source=/one,target=/tmp/one cat /tmp/one",
      "one",
      "[2/2] COMMIT bx-ms:1",
      "--> c9355e77d7c",
    ];
    expect(lines.map((line) => log.add(line).step)).toEqual([
      "[1/2] STEP 1/2: FROM localhost:5000/imagespec/python-base:bookworm AS one",
      "[1/2] STEP 2/2: RUN echo one > /one",
      "[1/2] STEP 2/2: RUN echo one > /one",
      "[2/2] STEP 1/2: FROM localhost:5000/imagespec/python-base:bookworm",
      "[2/2] STEP 2/2: RUN --mount=from=one,source=/one,target=/tmp/one cat /tmp/one",
      "[2/2] STEP 2/2: RUN --mount=from=one,source=/one,target=/tmp/one cat /tmp/one",
      undefined,
      undefined,
    ]);
    expect(log.failure).toEqual({ message: "--> c9355e77d7c" });
  });

  it("takes the first error, across the lines of a multi-line step, up to its exit status", () => {
    const log = new BuildahLog(none);
    for (const line of [
      "STEP 15/16: RUN mkdir -p $HOME &&     false",
      'Error: building at STEP "RUN mkdir -p $HOME &&',
      '    false": while running runtime: exit status 1',
      "Error: a later error",
    ]) {
      log.add(line);
    }
    expect(log.failure).toEqual({
      step: "STEP 15/16: RUN mkdir -p $HOME && false",
      exitCode: 1,
      message: 'building at STEP "RUN mkdir -p $HOME &&\n    false": while running runtime: exit status 1',
    });
    expect(log.tail.split("\n")).toHaveLength(4);
  });

  it("keeps only the last lines, masked", () => {
    const log = new BuildahLog(createRedactor(["hunter22"]), 3);
    for (let i = 0; i < 10; i++) log.add(`line ${i} hunter22`);
    expect(log.tail).toBe("line 7 ***\nline 8 ***\nline 9 ***");
  });
});
