import { describe, expect, it } from 'vitest';
import { type BreakerState, CircuitBreaker } from './breaker.js';

function breaker(options = { failures: 2, windowMs: 1000, coolDownMs: 500 }) {
  let now = 10_000;
  const changes: BreakerState[] = [];
  const b = new CircuitBreaker(options, { now: () => now, onChange: (s) => changes.push(s) });
  return { b, changes, advance: (ms: number) => (now += ms), now: () => now };
}

describe('CircuitBreaker', () => {
  it('opens after `failures` account failures in the window, with since and retryAt', () => {
    const { b, advance } = breaker();
    expect(b.allow()).toBe(true);
    b.settle('AUTH_FAILED');
    expect(b.view()).toEqual({ state: 'closed', since: 10_000, failures: 1 });
    advance(100);
    expect(b.allow()).toBe(true);
    b.settle('NETWORK');
    expect(b.view()).toEqual({ state: 'open', since: 10_100, failures: 2, retryAt: 10_600 });
    expect(b.allow()).toBe(false);
  });

  it('an opening has one moment: since and retryAt agree when the clock moves on every reading', () => {
    let clock = 10_000;
    const b = new CircuitBreaker(
      { failures: 2, windowMs: 1000, coolDownMs: 500 },
      { now: () => clock++ },
    );
    for (let i = 0; i < 2; i++) {
      expect(b.allow()).toBe(true);
      b.settle('AUTH_FAILED');
    }
    const view = b.view();
    expect(view.state).toBe('open');
    expect(view.retryAt).toBe(view.since + 500);
  });

  it('forgets failures older than the window', () => {
    const { b, advance } = breaker();
    b.allow();
    b.settle('AUTH_FAILED');
    advance(1000);
    b.allow();
    b.settle('AUTH_FAILED');
    expect(b.view()).toMatchObject({ state: 'closed', failures: 1 });
  });

  it('content refusals and VALIDATION do not count', () => {
    const { b } = breaker({ failures: 1, windowMs: 1000, coolDownMs: 500 });
    for (const code of ['ILLEGAL_KEYWORD', 'SIGNATURE_REQUIRED', 'VALIDATION', 'PLATFORM_ERROR']) {
      expect(b.allow()).toBe(true);
      b.settle(code);
    }
    expect(b.view().state).toBe('closed');
  });

  it('half-open after the cool-down lets one probe at a time; a sent probe closes it', () => {
    const { b, changes, advance } = breaker();
    b.allow();
    b.settle('AUTH_FAILED');
    b.allow();
    b.settle('AUTH_FAILED');
    advance(500);
    expect(b.view()).toMatchObject({ state: 'half-open', since: 10_500 });
    expect(b.allow()).toBe(true);
    expect(b.allow()).toBe(false); // the probe is still out
    b.settle();
    expect(b.view()).toEqual({ state: 'closed', since: 10_500, failures: 0 });
    expect(changes).toEqual(['open', 'half-open', 'closed']);
  });

  it('a failed probe opens it again for another cool-down', () => {
    const { b, advance, now } = breaker();
    b.allow();
    b.settle('AUTH_FAILED');
    b.allow();
    b.settle('AUTH_FAILED');
    advance(600);
    expect(b.allow()).toBe(true);
    b.settle('UNKNOWN_OUTCOME');
    expect(b.view()).toMatchObject({ state: 'open', since: now(), retryAt: now() + 500 });
  });

  it('a probe refused before any request (VALIDATION) frees the probe slot', () => {
    const { b, advance } = breaker({ failures: 1, windowMs: 1000, coolDownMs: 100 });
    b.allow();
    b.settle('NETWORK');
    advance(100);
    expect(b.allow()).toBe(true);
    b.settle('VALIDATION');
    expect(b.view().state).toBe('half-open');
    expect(b.allow()).toBe(true);
  });

  it('observe: a send made without asking counts, and one that went through closes it even open', () => {
    const { b, changes } = breaker();
    b.observe('NETWORK');
    b.observe('NETWORK');
    expect(b.view().state).toBe('open');
    expect(b.allow()).toBe(false);
    b.observe('ILLEGAL_KEYWORD'); // it answered: the account works
    expect(b.view()).toMatchObject({ state: 'closed', failures: 0 });
    expect(changes).toEqual(['open', 'closed']);
  });

  it('an allowed send that went through while the breaker opened meanwhile leaves it open', () => {
    const { b } = breaker({ failures: 1, windowMs: 1000, coolDownMs: 500 });
    expect(b.allow()).toBe(true); // in flight
    b.allow();
    b.settle('AUTH_FAILED');
    b.settle();
    expect(b.view().state).toBe('open');
  });

  it('refuses options that are not positive numbers', () => {
    expect(() => new CircuitBreaker({ failures: 0 })).toThrow(/breaker.failures/);
    expect(() => new CircuitBreaker({ coolDownMs: Number.NaN })).toThrow(/breaker.coolDownMs/);
  });
});
