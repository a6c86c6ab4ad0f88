import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttemptLimiter } from './rate-limit.js';

const MINUTE = 60_000;

test('without a lock shorter than the window, a key waits until its oldest counted failure leaves the window', () => {
  let now = 0;
  const limiter = new AttemptLimiter(3, 15 * MINUTE, () => now);
  for (let i = 0; i < 3; i++) {
    assert.equal(limiter.retryAfter('k'), 0);
    limiter.fail('k');
    now += MINUTE;
  }
  assert.equal(limiter.retryAfter('k'), 12 * 60, 'the first failure, at 0, leaves the window at 15 minutes');
  assert.equal(limiter.retryAfter('other'), 0, 'keys are counted apart');
  now = 15 * MINUTE + 1;
  assert.equal(limiter.retryAfter('k'), 0);
});

test('a short lock lets one try through after it, and each failure then locks again', () => {
  let now = 0;
  const limiter = new AttemptLimiter(3, 15 * MINUTE, () => now, MINUTE);
  for (let i = 0; i < 3; i++) limiter.fail('k');
  assert.equal(limiter.retryAfter('k'), 60);
  now += MINUTE;
  assert.equal(limiter.retryAfter('k'), 0, 'a minute after the last failure');
  limiter.fail('k');
  assert.equal(limiter.retryAfter('k'), 60, 'locked again at once');
  limiter.reset('k');
  assert.equal(limiter.retryAfter('k'), 0, 'a success forgets the failures');
});
