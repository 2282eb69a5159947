import { describe, expect, it } from "vitest";
import { formatRemaining, remaining } from "../../src/lib/countdown";
import { cartTotal, formatCents, lineTotal, parseDollars, unitCount } from "../../src/lib/money";
import { contestedLabel, stockLabel } from "../../src/lib/stock";

const line = (quantity: number, price: number) => ({ quantity, productDetail: { price } });

describe("money", () => {
  it("formats cents as dollars", () => {
    expect(formatCents(0)).toBe("$0.00");
    expect(formatCents(1160)).toBe("$11.60");
    expect(formatCents(123456)).toBe("$1,234.56");
    expect(formatCents(5)).toBe("$0.05");
  });

  it("totals lines in whole cents", () => {
    expect(lineTotal(line(3, 1160))).toBe(3480);
    expect(cartTotal([line(3, 1160), line(1, 5), line(2, 999)])).toBe(3480 + 5 + 1998);
    expect(cartTotal([])).toBe(0);
    expect(unitCount([line(3, 1), line(4, 1)])).toBe(7);
  });

  it("adds ten cents ten times to exactly a dollar (no floating point)", () => {
    expect(cartTotal(Array.from({ length: 10 }, () => line(1, 10)))).toBe(100);
  });

  it("reads typed dollar prices as cents", () => {
    expect(parseDollars("4.5")).toBe(450);
    expect(parseDollars("4.50")).toBe(450);
    expect(parseDollars(" 12 ")).toBe(1200);
    expect(parseDollars("0.07")).toBe(7);
    for (const bad of ["", "abc", "1.234", "-3", "1e3", "4,50"]) expect(parseDollars(bad)).toBeNull();
  });
});

describe("countdown", () => {
  const at = (secs: number) => secs * 1000;

  it("counts minutes and seconds down to the hold's end", () => {
    expect(remaining(1000 + 845, at(1000))).toEqual({ expired: false, minutes: 14, seconds: 5 });
    expect(formatRemaining(remaining(1000 + 845, at(1000)))).toBe("14:05");
    expect(formatRemaining(remaining(1000 + 9, at(1000)))).toBe("0:09");
  });

  it("ends at zero, never negative", () => {
    expect(remaining(1000, at(1000)).expired).toBe(true);
    expect(remaining(1000, at(5000))).toEqual({ expired: true, minutes: 0, seconds: 0 });
    expect(formatRemaining(remaining(1000, at(1001)))).toBe("expired");
  });
});

describe("stock", () => {
  it("says sold out, only N left, or in stock", () => {
    expect(stockLabel(0)).toBe("Sold out");
    expect(stockLabel(1)).toBe("Only 1 left");
    expect(stockLabel(5)).toBe("Only 5 left");
    expect(stockLabel(6)).toBe("In stock");
  });

  it("tells how many sit in other shoppers' carts", () => {
    expect(contestedLabel(0)).toBeNull();
    expect(contestedLabel(1)).toBe("1 in another shopper's cart");
    expect(contestedLabel(12)).toBe("12 in other shoppers' carts");
  });
});
