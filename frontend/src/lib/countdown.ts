// The time an unpaid order still holds its stock.

export interface Remaining {
  expired: boolean;
  minutes: number;
  seconds: number;
}

export function remaining(expiresAtSecs: number, nowMs: number): Remaining {
  const left = Math.max(0, Math.floor(expiresAtSecs - nowMs / 1000));
  return { expired: left === 0, minutes: Math.floor(left / 60), seconds: left % 60 };
}

/** "14:05", or "expired". */
export function formatRemaining(r: Remaining): string {
  if (r.expired) return "expired";
  return `${r.minutes}:${String(r.seconds).padStart(2, "0")}`;
}
