import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuditSampler } from './audit-sampler.js';

test('one event per key and interval gets through; the next one says how many were held back', () => {
  let now = 0;
  const sampler = new AuditSampler(60_000, () => now);
  assert.equal(sampler.admit('eve|GET /x'), 0);
  assert.equal(sampler.admit('eve|GET /x'), null);
  assert.equal(sampler.admit('eve|GET /x'), null);
  assert.equal(sampler.admit('eve|GET /y'), 0, 'another route is another key');
  assert.equal(sampler.admit('bob|GET /x'), 0, 'another caller too');
  now = 59_999;
  assert.equal(sampler.admit('eve|GET /x'), null);
  now = 60_000;
  assert.equal(sampler.admit('eve|GET /x'), 3);
  assert.equal(sampler.admit('eve|GET /x'), null);
});

test('memory stays bounded: once there are many keys, those older than the interval are forgotten', () => {
  let now = 0;
  const sampler = new AuditSampler(1000, () => now);
  for (let i = 0; i < 10_000; i++) sampler.admit(`k${i}`);
  assert.equal(sampler.admit('k1'), null, 'held back, and counted');
  now = 1000;
  sampler.admit('fresh');
  // Kept, k1 would report the event held back; forgotten, it starts over.
  assert.equal(sampler.admit('k1'), 0);
});
