// A clock tests move by hand: certificate ages, ladders, leases and caches without waiting.
import type { Clock } from "../../src/domain/shared/clock.js";

export class SteppingClock implements Clock {
  private current: number;

  constructor(start: Date | number) {
    this.current = typeof start === "number" ? start : start.getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  advance(milliseconds: number): void {
    this.current += milliseconds;
  }

  set(at: Date): void {
    this.current = at.getTime();
  }
}
