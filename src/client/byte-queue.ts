/** A FIFO of byte chunks with a running byte count and one waiter (browser-safe). */
export class ByteQueue {
  private items: Uint8Array[] = [];
  private waiter: (() => void) | undefined;
  bytes = 0;

  push(data: Uint8Array): void {
    this.items.push(data);
    this.bytes += data.length;
    this.wake();
  }

  shift(): Uint8Array | undefined {
    const item = this.items.shift();
    if (item) this.bytes -= item.length;
    return item;
  }

  /** Resolves at the next push() or wake(). */
  wait(): Promise<void> {
    return new Promise((resolve) => (this.waiter = resolve));
  }

  wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}
