// The storefront's settings, read at run time from /config.json (the local
// stack writes it; `make deploy-frontend` writes it from the stack's outputs),
// so one build serves every environment.

export interface StorefrontConfig {
  /** Where the API is, on this origin (e.g. "/api"). */
  apiBase: string;
  region: string;
  userPoolId: string;
  userPoolClientId: string;
  /** Only locally: the emulator's Cognito endpoint. Absent on AWS. */
  cognitoEndpoint?: string;
  /** Card payments with Stripe: its publishable key and where Stripe.js is
   * (https://js.stripe.com/v3/; locally, the stack's stand-in). Absent when
   * the shop takes the sandbox's test cards. */
  stripe?: { publishableKey: string; jsUrl: string };
}

function isConfig(value: unknown): value is StorefrontConfig {
  const v = value as Record<string, unknown> | null;
  return (
    typeof v === "object" &&
    v !== null &&
    typeof v.apiBase === "string" &&
    typeof v.region === "string" &&
    typeof v.userPoolId === "string" &&
    typeof v.userPoolClientId === "string" &&
    (v.cognitoEndpoint === undefined || typeof v.cognitoEndpoint === "string") &&
    (v.stripe === undefined || isStripeConfig(v.stripe))
  );
}

function isStripeConfig(value: unknown): boolean {
  const v = value as Record<string, unknown> | null;
  return typeof v === "object" && v !== null && typeof v.publishableKey === "string" && typeof v.jsUrl === "string";
}

export async function loadConfig(fetchImpl: typeof fetch = fetch): Promise<StorefrontConfig> {
  // Same mode as index.html's preload, so the browser reuses that response.
  const response = await fetchImpl("/config.json", { credentials: "same-origin", mode: "cors" });
  if (!response.ok) throw new Error(`/config.json: HTTP ${response.status}`);
  const value: unknown = await response.json();
  if (!isConfig(value)) throw new Error("/config.json lacks apiBase, region, userPoolId or userPoolClientId");
  return value;
}

/** Amplify's Auth settings for the pool (and, locally, the emulator's endpoint). */
export function amplifyAuthConfig(config: StorefrontConfig) {
  return {
    Auth: {
      Cognito: {
        userPoolId: config.userPoolId,
        userPoolClientId: config.userPoolClientId,
        ...(config.cognitoEndpoint ? { userPoolEndpoint: config.cognitoEndpoint } : {}),
        loginWith: { username: true },
        signUpVerificationMethod: "code" as const,
        userAttributes: { email: { required: true } },
        passwordFormat: {
          minLength: 8,
          requireLowercase: true,
          requireUppercase: true,
          requireNumbers: true,
          requireSpecialCharacters: false,
        },
      },
    },
  };
}
