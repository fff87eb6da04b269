// Blocks the calling thread for a while: the stores' calls are synchronous, so a wait before trying again cannot yield.

const cell = new Int32Array(new SharedArrayBuffer(4));

/** Sleeps `ms` milliseconds without returning to the event loop (nothing ever notifies the cell). */
export function pauseThread(ms: number): void {
  Atomics.wait(cell, 0, 0, ms);
}
