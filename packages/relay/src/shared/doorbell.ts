/**
 * How a polling loop sleeps between rounds yet looks again at once when told there is work:
 * `wait(ms)` resolves after `ms`, or at the next `ring()`, or at once if rung meanwhile.
 */
export class Doorbell {
  private answer: (() => void) | undefined;
  private rung = false;

  ring(): void {
    this.rung = true;
    this.answer?.();
  }

  wait(ms: number): Promise<void> {
    if (this.rung) {
      this.rung = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.answer = undefined;
        this.rung = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.answer = done;
    });
  }
}
