/**
 * The worker's boot slots (WORKER_CONCURRENCY), shared by every queue it consumes and by its
 * health boots, so that the number of QEMU processes never exceeds the configured concurrency.
 */
export class SlotPool {
  private used = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(
    readonly size: number,
    private readonly onChange: () => void = () => {},
  ) {}

  get free(): number {
    return this.size - this.used;
  }

  /** Takes a slot if one is free (a job must never wait for a slot while holding its BullMQ lock). */
  tryAcquire(): boolean {
    if (this.used >= this.size) return false;
    this.used++;
    this.onChange();
    return true;
  }

  /** Waits for a slot (health boots queue up behind running vendor boots). */
  async acquire(): Promise<void> {
    while (!this.tryAcquire()) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    this.used = Math.max(0, this.used - 1);
    this.waiters.shift()?.();
    this.onChange();
  }

  /** Runs `fn` holding a slot. */
  async with<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }
}
