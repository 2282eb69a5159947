// How the page words a rating.
import type { Rating } from "./types";

/** "4.3" (one decimal, as shops show it), or none before the first review. */
export function formatAverage(rating: Rating): string | null {
  return rating.average === null ? null : rating.average.toFixed(1);
}

/** What a screen reader hears for the stars. */
export function ratingLabel(rating: Rating): string {
  const average = formatAverage(rating);
  if (average === null) return "No reviews yet";
  const reviews = rating.count === 1 ? "1 review" : `${rating.count} reviews`;
  return `Rated ${average} out of 5 from ${reviews}`;
}

/** Five marks, each full, half or empty, for an average. */
export function starMarks(average: number): ("full" | "half" | "empty")[] {
  return [1, 2, 3, 4, 5].map((star) => (average >= star - 0.25 ? "full" : average >= star - 0.75 ? "half" : "empty"));
}

/** The share of reviews giving each rating, 5 stars first, in percent (whole numbers). */
export function histogramRows(rating: Rating): { stars: number; count: number; percent: number }[] {
  return [5, 4, 3, 2, 1].map((stars) => {
    const count = rating.histogram[stars - 1] ?? 0;
    return { stars, count, percent: rating.count ? Math.round((100 * count) / rating.count) : 0 };
  });
}
