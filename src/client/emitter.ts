/** A minimal typed event emitter (browser-safe: no node:events). */
export class Emitter<Events extends Record<string, unknown[]>> {
  private readonly listeners: { [K in keyof Events]?: ((...args: Events[K]) => void)[] } = {};

  on<K extends keyof Events>(event: K, listener: (...args: Events[K]) => void): () => void {
    const list = this.listeners[event] ?? [];
    this.listeners[event] = list;
    list.push(listener);
    return () => this.off(event, listener);
  }

  off<K extends keyof Events>(event: K, listener: (...args: Events[K]) => void): void {
    const list = this.listeners[event];
    if (list) this.listeners[event] = list.filter((l) => l !== listener);
  }

  protected emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    for (const l of this.listeners[event] ?? []) l(...args);
  }
}
