import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '@shoal/testing';
import { isShoalError } from '@shoal/core';
import { modelFileName, readCurrentModel, strayModelFiles, writeCurrentModel } from './model-files.js';

describe('read-model files', () => {
  it('names models by projection, version and generation', () => {
    expect(modelFileName('order-view', 2, 7)).toBe('order-view.v2.g7.db');
  });

  it('replaces the pointer and reads it back, leaving no temporary file', () => {
    const dir = tempDir('model-files');
    expect(readCurrentModel(dir, 'order-view')).toBeUndefined();
    writeCurrentModel(dir, 'order-view', { file: 'order-view.v1.g1.db', version: 1, generation: 1 });
    writeCurrentModel(dir, 'order-view', { file: 'order-view.v2.g2.db', version: 2, generation: 2 });
    expect(readCurrentModel(dir, 'order-view')).toEqual({ file: 'order-view.v2.g2.db', version: 2, generation: 2 });
    expect(readdirSync(dir)).toEqual(['order-view.current.json']);
  });

  it('refuses a pointer that does not name a model of the projection', () => {
    const dir = tempDir('model-files');
    writeFileSync(join(dir, 'order-view.current.json'), JSON.stringify({ file: '../elsewhere.db', version: 1, generation: 1 }));
    let error: unknown;
    try {
      readCurrentModel(dir, 'order-view');
    } catch (caught) {
      error = caught;
    }
    expect(isShoalError(error, 'SHOAL_DATABASE')).toBe(true);
    expect((error as Error).message).toContain('does not name a read model of order-view');
  });

  it('finds the model files that the pointer does not name, and no other projection’s', () => {
    const dir = tempDir('model-files');
    const files = [
      'order-view.v1.g1.db',
      'order-view.v1.g1.db-wal',
      'order-view.v2.g2.db',
      'order-view.v2.g2.db-wal',
      'order-view.v2.g2.db-shm',
      'order-view.v2.g3.db',
      'order-view.current.json.tmp',
      'order-view-archive.v1.g1.db',
      'orders.v1.g1.db',
      'notes.txt',
    ];
    for (const file of files) writeFileSync(join(dir, file), '');
    expect(strayModelFiles(dir, 'order-view', 'order-view.v2.g2.db').map((path) => path.slice(dir.length + 1)).sort()).toEqual([
      'order-view.current.json.tmp',
      'order-view.v1.g1.db',
      'order-view.v1.g1.db-wal',
      'order-view.v2.g3.db',
    ]);
  });
});
