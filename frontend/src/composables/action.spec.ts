import { describe, expect, it } from "vitest";
import { ApiError } from "../lib/errors";
import { useAction } from "./action";

describe("useAction", () => {
  it("runs one at a time: a second run while busy does nothing", async () => {
    const action = useAction();
    let calls = 0;
    let release: () => void = () => undefined;
    const first = action.run(() => new Promise<string>((done) => ((release = () => done("ok")), calls++)));
    expect(action.busy.value).toBe(true);
    expect(await action.run(async () => calls++)).toBeUndefined();
    release();
    expect(await first).toBe("ok");
    expect(calls).toBe(1);
    expect(action.busy.value).toBe(false);
    expect(action.done.value).toBe(true);
  });

  it("a failure is said in plain words (or the screen's own), and the next run clears it", async () => {
    const action = useAction();
    expect(await action.run(() => Promise.reject(new ApiError(409, { message: "x", available: 2 })))).toBeUndefined();
    expect(action.error.value).toBe("Only 2 available.");
    expect(action.done.value).toBe(false);
    await action.run(async () => 1);
    expect(action.error.value).toBeNull();

    const own = useAction(() => "The card was declined.");
    await own.run(() => Promise.reject(new Error("anything")));
    expect(own.error.value).toBe("The card was declined.");
  });
});
