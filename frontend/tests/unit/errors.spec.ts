import { describe, expect, it } from "vitest";
import { ApiError, isRetryable, NetworkError, plainMessage } from "../../src/lib/errors";
import { loadConfig } from "../../src/lib/config";

describe("plainMessage", () => {
  it("shows the API's message for the caller's mistakes, as a sentence", () => {
    expect(plainMessage(new ApiError(404, { message: "product p1 not found" }))).toBe("Product p1 not found.");
    expect(plainMessage(new ApiError(400, { message: "quantity must be 1 to 100." }))).toBe("Quantity must be 1 to 100.");
  });

  it("names the units left when stock refused a change", () => {
    expect(plainMessage(new ApiError(409, { message: "not enough stock", available: 3 }))).toBe("Only 3 available.");
    expect(plainMessage(new ApiError(409, { message: "not enough stock", available: 0 }))).toBe("Sold out: none available.");
    expect(plainMessage(new ApiError(409, { message: "order is PAID" }))).toBe("Order is PAID.");
  });

  it("never shows a server's internals, and says nothing changed", () => {
    expect(plainMessage(new ApiError(500, { message: "Internal server error" }))).toMatch(/our side.*try again/);
    expect(plainMessage(new ApiError(503, { message: "payment provider unavailable" }))).toMatch(/Nothing was changed/);
    expect(plainMessage(new ApiError(401, { message: "token expired" }))).toMatch(/sign in again/);
    expect(plainMessage(new NetworkError())).toMatch(/cannot be reached/);
    expect(plainMessage(new Error("boom"))).toMatch(/unexpected/);
  });

  it("keeps a message-less answer readable", () => {
    expect(new ApiError(418, {}).message).toBe("HTTP 418");
  });
});

describe("isRetryable", () => {
  it("retries with the same key only when no answer came or the server failed", () => {
    expect(isRetryable(new NetworkError())).toBe(true);
    expect(isRetryable(new ApiError(503, {}))).toBe(true);
    expect(isRetryable(new ApiError(500, {}))).toBe(true);
    for (const status of [400, 401, 402, 404, 409]) expect(isRetryable(new ApiError(status, {}))).toBe(false);
    expect(isRetryable(new Error("x"))).toBe(false);
  });
});

describe("loadConfig", () => {
  const answering = (body: unknown, status = 200) =>
    (async () => new Response(JSON.stringify(body), { status })) as unknown as typeof fetch;

  it("reads the page's settings", async () => {
    const config = { apiBase: "/api", region: "us-east-1", userPoolId: "us-east-1_x", userPoolClientId: "c" };
    await expect(loadConfig(answering(config))).resolves.toEqual(config);
  });

  it("refuses a config that lacks a setting or did not load", async () => {
    await expect(loadConfig(answering({ apiBase: "/api" }))).rejects.toThrow(/lacks/);
    await expect(loadConfig(answering({}, 404))).rejects.toThrow(/404/);
  });
});
