/**
 * Typed events without `node:events` (the receiver runs in the browser too), called in the order
 * they were added, like Node's EventEmitter; `on` returns the function that removes the listener.
 */
type Listener = (...args: unknown[]) => void;

export class Emitter<E extends { [K in keyof E]: unknown[] }> {
  private readonly listeners = new Map<keyof E, Set<Listener>>();

  on<K extends keyof E>(event: K, listener: (...args: E[K]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    const l = listener as unknown as Listener;
    set.add(l);
    return () => void set.delete(l);
  }

  protected emit<K extends keyof E>(event: K, ...args: E[K]): void {
    for (const l of [...(this.listeners.get(event) ?? [])]) l(...args);
  }

  /** Drops every listener (the object is closed). */
  protected removeAllListeners(): void {
    this.listeners.clear();
  }
}
