import { describe, expect, it } from "vitest";
import { formatAverage, histogramRows, ratingLabel, starMarks } from "../../src/lib/rating";

const rating = (histogram: number[]) => {
  const count = histogram.reduce((a, b) => a + b, 0);
  const total = histogram.reduce((sum, n, i) => sum + n * (i + 1), 0);
  return { average: count ? total / count : null, count, histogram };
};

describe("rating", () => {
  it("words an average and its reviews", () => {
    expect(ratingLabel(rating([0, 0, 0, 2, 1]))).toBe("Rated 4.3 out of 5 from 3 reviews");
    expect(ratingLabel(rating([1, 0, 0, 0, 0]))).toBe("Rated 1.0 out of 5 from 1 review");
    expect(ratingLabel(rating([0, 0, 0, 0, 0]))).toBe("No reviews yet");
    expect(formatAverage(rating([0, 0, 0, 0, 0]))).toBeNull();
  });

  it("rounds stars to halves", () => {
    expect(starMarks(4.3)).toEqual(["full", "full", "full", "full", "half"]);
    expect(starMarks(4.8)).toEqual(["full", "full", "full", "full", "full"]);
    expect(starMarks(1)).toEqual(["full", "empty", "empty", "empty", "empty"]);
    expect(starMarks(0)).toEqual(["empty", "empty", "empty", "empty", "empty"]);
  });

  it("shows each rating's share, five stars first", () => {
    expect(histogramRows(rating([1, 0, 0, 1, 2]))).toEqual([
      { stars: 5, count: 2, percent: 50 },
      { stars: 4, count: 1, percent: 25 },
      { stars: 3, count: 0, percent: 0 },
      { stars: 2, count: 0, percent: 0 },
      { stars: 1, count: 1, percent: 25 },
    ]);
    expect(histogramRows(rating([0, 0, 0, 0, 0]))[0]).toEqual({ stars: 5, count: 0, percent: 0 });
  });
});
