// BuildLog: Cloud Build's log file read in chunks that end anywhere (inside a line, inside a UTF-8
// character), each line reported once, whole, with the step it belongs to; a redacted tail.
import { describe, expect, it } from "vitest";
import { BuildLog, logObject } from "../src/index.ts";

const LOG =
  'starting build "b-9"\n\nFETCHSOURCE\nFetching storage object: gs://b/o#1\nBUILD\nStarting Step #0 - "build"\n' +
  'Step #0 - "build": #5 [stage-0 2/4] RUN echo "café ✓"\nStep #1: no id here\nFinished Step #0 - "build"\n' +
  "PUSH\nPushing r/app:t\nDONE\n";

describe("BuildLog", () => {
  it("gives the same lines, once each, however the bytes are cut", () => {
    const bytes = Buffer.from(LOG);
    const whole = new BuildLog().add(bytes);
    for (const size of [1, 2, 3, 7, 64]) {
      const log = new BuildLog();
      const lines = [];
      for (let at = 0; at < bytes.length; at += size) lines.push(...log.add(bytes.subarray(at, at + size)));
      lines.push(...log.flush());
      expect(lines).toEqual(whole);
      expect(log.offset).toBe(bytes.length);
    }
    expect(whole).toEqual([
      { line: 'starting build "b-9"' },
      { line: "" },
      { line: "FETCHSOURCE", step: "fetchsource" },
      { line: "Fetching storage object: gs://b/o#1", step: "fetchsource" },
      { line: "BUILD", step: "build" },
      { line: 'Starting Step #0 - "build"', step: "build" },
      { line: '#5 [stage-0 2/4] RUN echo "café ✓"', step: "build" },
      { line: "no id here", step: "Step #1" },
      { line: 'Finished Step #0 - "build"', step: "build" },
      { line: "PUSH", step: "push" },
      { line: "Pushing r/app:t", step: "push" },
      { line: "DONE", step: "done" },
    ]);
  });

  it("keeps a last line without a newline until flush()", () => {
    const log = new BuildLog();
    expect(log.add(Buffer.from("one\ntw"))).toEqual([{ line: "one" }]);
    expect(log.add(Buffer.from("o"))).toEqual([]);
    expect(log.flush()).toEqual([{ line: "two" }]);
    expect(log.flush()).toEqual([]);
  });

  it("a tail of the last lines, tokens redacted, and the last error line", () => {
    const log = new BuildLog(undefined, 3);
    log.add(Buffer.from("a\nAuthorization: Bearer abc.def\nStep #0: ERROR: failed to solve\nERROR\nlast\n"));
    expect(log.tail).toBe("Step #0: ERROR: failed to solve\nERROR\nlast");
    expect(log.lastError).toBe("Step #0: ERROR: failed to solve");
    const redacted = new BuildLog().add(Buffer.from("token ya29.a0AfH6SM-secret and Bearer xyz\r\n"));
    expect(redacted).toEqual([{ line: "token [redacted] and Bearer [redacted]" }]);
  });
});

describe("logObject", () => {
  it("reads gs://bucket[/folder] as Cloud Build names the log: log-<id>.txt", () => {
    expect(logObject("gs://123.cloudbuild-logs.googleusercontent.com", "b-1")).toEqual({
      bucket: "123.cloudbuild-logs.googleusercontent.com",
      object: "log-b-1.txt",
    });
    expect(logObject("gs://my-logs/team/builds/", "b-2")).toEqual({
      bucket: "my-logs",
      object: "team/builds/log-b-2.txt",
    });
  });
});
