// The compact key index: exact membership for what was added (through growth), duplicates refused,
// amounts and reference ids kept, and the seen/allSeen bookkeeping the second local pass relies on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyIndex } from './key-index';

test('adds, finds and grows without losing entries; refuses duplicates', () => {
  const idx = new KeyIndex(4);
  const n = 50_000;
  for (let i = 0; i < n; i++)
    assert.equal(idx.add(`T${String(i).padStart(12, '0')}`, i + 1, `4200${i}`), true);
  assert.equal(idx.size, n);
  assert.equal(idx.add('T000000000007', 1, 'x'), false, 'duplicate out number');
  for (let i = 0; i < n; i += 997) {
    const slot = idx.find(`T${String(i).padStart(12, '0')}`);
    assert.ok(slot >= 0);
    assert.equal(idx.amountAt(slot), i + 1);
    assert.equal(idx.sameRef(slot, `4200${i}`), true);
    assert.equal(idx.sameRef(slot, `4200${i + 1}`), false);
  }
  assert.equal(idx.find('T999999999999'), -1);
  assert.equal(idx.find(''), -1);
});

test('seen: each key once; allSeen only when every key was matched', () => {
  const idx = new KeyIndex();
  idx.add('A', 100, 'ra');
  idx.add('B', 200, 'rb');
  assert.equal(idx.allSeen, false);
  assert.equal(idx.markSeen(idx.find('A')), true);
  assert.equal(idx.markSeen(idx.find('A')), false, 'a repeated bill row');
  assert.equal(idx.seen('A'), true);
  assert.equal(idx.seen('B'), false);
  assert.equal(idx.allSeen, false);
  idx.markSeen(idx.find('B'));
  assert.equal(idx.allSeen, true);
  assert.equal(new KeyIndex().allSeen, true, 'an empty day has nothing unseen');
});
