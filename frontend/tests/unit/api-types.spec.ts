// The API client's answers come from openapi.yaml (lib/api-types.ts, generated):
// each route the storefront calls must have a JSON answer there. A route
// missing from the contract would make its answer `never`, which type-checks
// anywhere; these checks make that a compile error (vue-tsc) and a failure.
import { describe, expect, it } from "vitest";
import type { api } from "../../src/lib/api";

type IsNever<T> = [T] extends [never] ? true : false;
type AnswerOf<K extends keyof typeof api> = Awaited<ReturnType<(typeof api)[K]>>;
/** The calls whose answer openapi.yaml does not declare (none, or the check below fails to compile naming them). */
type Undeclared = { [K in keyof typeof api]: IsNever<AnswerOf<K>> extends true ? K : never }[keyof typeof api];

describe("the API client's types", () => {
  it("gives every call an answer declared in openapi.yaml", () => {
    const everyCallDeclared: [Undeclared] extends [never] ? "declared" : Undeclared = "declared";
    expect(everyCallDeclared).toBe("declared");
  });
});
