// Errors from the API (or the network) in plain words for the page.

export class ApiError extends Error {
  readonly status: number;
  readonly body: Record<string, unknown>;

  constructor(status: number, body: Record<string, unknown>) {
    super(typeof body.message === "string" ? body.message : `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
  }

  /** The units still available, when the API refused for stock (409). */
  get available(): number | undefined {
    return typeof this.body.available === "number" ? this.body.available : undefined;
  }
}

/** The network failed before any answer (offline, server down). */
export class NetworkError extends Error {
  constructor() {
    super("network error");
    this.name = "NetworkError";
  }
}

/** Whether the same request may be sent again with the same Idempotency-Key:
 *  no answer came, or the server failed (it changed nothing, or the key
 *  makes the retry return what it did). A 4xx is final: a new attempt gets a new key. */
export function isRetryable(error: unknown): boolean {
  return error instanceof NetworkError || (error instanceof ApiError && error.status >= 500);
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** One sentence a shopper can act on. */
export function plainMessage(error: unknown): string {
  if (error instanceof NetworkError) {
    return "The shop cannot be reached right now. Check your connection and try again.";
  }
  if (error instanceof ApiError) {
    if (error.status === 409 && error.available !== undefined) {
      return error.available === 0 ? "Sold out: none available." : `Only ${error.available} available.`;
    }
    if (error.status === 401) return "Your session has ended. Please sign in again.";
    if (error.status === 403) return "You are not allowed to do that.";
    if (error.status === 503) return "A service we depend on is unavailable. Nothing was changed: please try again.";
    if (error.status >= 500) return "Something went wrong on our side. Nothing was changed: please try again.";
    return capitalize(error.message) + (/[.!?]$/.test(error.message) ? "" : ".");
  }
  // The API client's SessionEndedError (and any other error that says it plainly).
  if (error instanceof Error && error.name === "SessionEndedError") return error.message;
  return "Something unexpected happened. Please try again.";
}
