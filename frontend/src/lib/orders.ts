// How the page names an order's state and the sandbox's test cards.
import type { OrderStatus } from "./types";

export const STATUS_LABELS: Record<OrderStatus, string> = {
  PENDING_PAYMENT: "Awaiting payment",
  PAID: "Paid",
  CANCELLED: "Cancelled",
  EXPIRED: "Expired",
  REFUNDED: "Refunded",
};

/** The sandbox payment provider's test cards, offered by what they do. */
export const TEST_CARDS = [
  { token: "tok_visa", label: "Test card that is approved" },
  { token: "tok_declined", label: "Test card that is declined" },
  { token: "tok_provider_error", label: "Test card whose provider is down" },
] as const;

export function formatDate(epochSecs: number): string {
  return new Date(epochSecs * 1000).toLocaleString("en-US", { dateStyle: "medium", timeStyle: "short" });
}
