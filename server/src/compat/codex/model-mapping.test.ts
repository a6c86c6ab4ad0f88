import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeploymentNameSchema } from '@forja/contracts';
import { displayNameOf, executionIdOf, executionNumberOf, forjaNameOf, newCodexExecutionId, requestedPython } from './model-mapping.js';

test('display names become valid Forja names and come back unchanged', () => {
  for (const display of ['Teste notebook Sync', 'Modelo de Crédito', 'a_b.c-d', 'x', 'Árvore 2', '模型 1']) {
    for (const copy of [1, 2, 17]) {
      const name = forjaNameOf(display, copy);
      assert.ok(DeploymentNameSchema.safeParse(name).success, `${display} → ${name}`);
      assert.equal(displayNameOf(name), display);
    }
  }
  assert.equal(forjaNameOf('Teste notebook Sync'), 'Teste_notebook_Sync');
  assert.notEqual(forjaNameOf('a b'), forjaNameOf('a_b'));
  assert.throws(() => forjaNameOf(' '), /give the model a name/);
  assert.throws(() => forjaNameOf('_x'), /start with a letter or digit/);
  assert.throws(() => forjaNameOf('y'.repeat(32)), /under 32/);
});

test('execution numbers and Forja ids convert both ways, are safe integers, and stay time-ordered', () => {
  const a = newCodexExecutionId(1_800_000_000_000);
  const b = newCodexExecutionId(1_800_000_000_000);
  const c = newCodexExecutionId(1_800_000_000_001);
  for (const e of [a, b, c]) {
    assert.equal(e.id.length, 20);
    assert.ok(Number.isSafeInteger(e.number));
    assert.equal(executionIdOf(e.number), e.id);
    assert.equal(executionIdOf(String(e.number)), e.id);
    assert.equal(executionNumberOf(e.id), e.number);
  }
  assert.ok(a.id < b.id && b.id < c.id && a.number < b.number && b.number < c.number);
  assert.equal(executionNumberOf('0mxdsohw30089qu5qnpd'), undefined, 'an execution not started through Codex has no number');
  assert.equal(executionIdOf('12x'), undefined);
  assert.equal(executionIdOf('-1'), undefined);
});

test("Codex's Python names", () => {
  assert.equal(requestedPython('Python310'), '3.10');
  assert.equal(requestedPython('Python38'), '3.8');
  assert.equal(requestedPython('3.9'), '3.9');
  assert.throws(() => requestedPython('Python2'), /Python38, Python39 or Python310/);
  assert.throws(() => requestedPython(undefined), /python_version/);
});
