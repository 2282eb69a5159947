// Prices are integer cents everywhere; only the page turns them into text.

const formatter = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });

export function formatCents(cents: number): string {
  return formatter.format(cents / 100);
}

/** Parses a price typed as dollars ("12", "12.5", "12.50") into cents, or null. */
export function parseDollars(text: string): number | null {
  const match = /^\s*(\d{1,7})(?:\.(\d{1,2}))?\s*$/.exec(text);
  if (!match) return null;
  const cents = Number(match[1]) * 100 + Number((match[2] ?? "").padEnd(2, "0"));
  return cents;
}

export interface PricedLine {
  quantity: number;
  productDetail: { price: number };
}

export function lineTotal(line: PricedLine): number {
  return line.quantity * line.productDetail.price;
}

export function cartTotal(lines: readonly PricedLine[]): number {
  return lines.reduce((sum, line) => sum + lineTotal(line), 0);
}

export function unitCount(lines: readonly { quantity: number }[]): number {
  return lines.reduce((sum, line) => sum + line.quantity, 0);
}
