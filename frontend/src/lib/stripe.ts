// Stripe.js, loaded only when a card is to be paid: the script from the
// configured URL (Stripe's, or the local stack's stand-in), once. The card
// number never touches the shop's code: Stripe's card element collects it
// and Stripe.js sends it to Stripe.
import type { StorefrontConfig } from "./config";

export interface CardElement {
  mount(target: HTMLElement): void;
  on(event: "change" | "ready", handler: (payload: { complete?: boolean }) => void): void;
  destroy(): void;
}

export interface StripeError {
  code?: string;
  message?: string;
}

export interface Stripe {
  elements(): { create(type: "card"): CardElement };
  confirmCardPayment(
    clientSecret: string,
    data: { payment_method: { card: CardElement } },
  ): Promise<{ error?: StripeError; paymentIntent?: { id: string; status: string } }>;
}

declare global {
  interface Window {
    Stripe?: (publishableKey: string) => Stripe;
  }
}

let settings: StorefrontConfig["stripe"];
let loading: Promise<Stripe> | null = null;

/** Called once at start with the page's settings. */
export function setStripeSettings(stripe: StorefrontConfig["stripe"]): void {
  settings = stripe;
}

/** Whether the shop takes cards through Stripe (else the sandbox's test cards). */
export function paysWithStripe(): boolean {
  return settings !== undefined;
}

export function loadStripe(): Promise<Stripe> {
  const stripe = settings;
  if (!stripe) return Promise.reject(new Error("this shop does not take cards through Stripe"));
  loading ??= new Promise<Stripe>((resolve, reject) => {
    const script = document.createElement("script");
    script.src = stripe.jsUrl;
    script.async = true;
    script.onload = () =>
      window.Stripe ? resolve(window.Stripe(stripe.publishableKey)) : reject(new Error("Stripe.js did not load"));
    script.onerror = () => {
      loading = null;
      reject(new Error("Stripe.js could not be loaded: check your connection and try again"));
    };
    document.head.appendChild(script);
  });
  return loading;
}

/** What a failed confirmation tells the shopper (nothing was charged). */
export function cardErrorMessage(error: StripeError): string {
  if (error.code === "card_declined") {
    return "Your card was declined and nothing was charged. Your items stay reserved: pay with another card, or cancel the order.";
  }
  if (error.code === "payment_intent_authentication_failure") {
    return "Your bank did not confirm the payment (3-D Secure), so nothing was charged. Your items stay reserved: try again or use another card.";
  }
  return `${error.message ?? "The payment did not go through."} Nothing was charged; your items stay reserved.`;
}
