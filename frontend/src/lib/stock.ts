// What a shopper reads about a product's stock.

export const LOW_STOCK = 5;

export function stockLabel(available: number): string {
  if (available <= 0) return "Sold out";
  if (available <= LOW_STOCK) return `Only ${available} left`;
  return "In stock";
}

export function contestedLabel(inCarts: number): string | null {
  if (inCarts <= 0) return null;
  return inCarts === 1 ? "1 in another shopper's cart" : `${inCarts} in other shoppers' carts`;
}
