/**
 * A set that forgets its oldest entries beyond `limit`: a cache of facts that never become
 * false (a user exists, a conversation's rows exist), where forgetting costs only a lookup.
 */
export class BoundedSet<T> {
  private readonly items = new Set<T>();

  constructor(private readonly limit: number) {}

  has(item: T): boolean {
    return this.items.has(item);
  }

  add(item: T): void {
    if (this.items.has(item)) return;
    this.items.add(item);
    if (this.items.size > this.limit) this.items.delete(this.items.values().next().value as T);
  }

  get size(): number {
    return this.items.size;
  }
}
