/**
 * WritableGate: wake listeners once a socket's send buffer has drained below its low-water mark. `ws` has no
 * 'drain' event for bufferedAmount, so the gate polls — only while someone is waiting, every few milliseconds.
 */
export class WritableGate {
  private listeners: (() => void)[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly isLow: () => boolean,
    private readonly pollMs = 5,
  ) {}

  wait(listener: () => void): void {
    if (this.isLow()) return listener();
    this.listeners.push(listener);
    this.timer ??= setInterval(() => {
      if (!this.isLow()) return;
      clearInterval(this.timer);
      this.timer = undefined;
      for (const l of this.listeners.splice(0)) l();
    }, this.pollMs);
  }

  cancel(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.listeners = [];
  }
}
