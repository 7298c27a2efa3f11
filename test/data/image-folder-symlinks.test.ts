// Symbolic links in image folders: followed as torchvision follows them, except a link back to a folder
// the walk is inside (a cycle would list the same images until the path grows too long, or end in ELOOP)
// and links that cannot be followed; both are skipped and reported with the reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadImageFolder } from '../../src/data/index.js';
import { tempDir } from './support.js';

async function writeImage(path: string, shade: number): Promise<void> {
  await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: shade, g: shade, b: shade } } })
    .png()
    .toFile(path);
}

test('a symbolic link cycle in an image folder is skipped and reported, not followed until ELOOP', async (t) => {
  const root = tempDir(t);
  for (const split of ['train', 'test']) {
    for (const name of ['cat', 'dog']) {
      mkdirSync(join(root, split, name), { recursive: true });
      for (let i = 0; i < 2; i++)
        await writeImage(join(root, split, name, `${i}.png`), 40 * i + (name === 'cat' ? 0 : 100));
    }
  }
  // train/cat/again -> train/cat (a cycle), train/dog/up -> train (a cycle through the split folder),
  // train/dog/self.png -> itself (ELOOP), train/dog/shared -> test/dog (an ordinary link, followed).
  symlinkSync(join(root, 'train', 'cat'), join(root, 'train', 'cat', 'again'));
  symlinkSync('..', join(root, 'train', 'dog', 'up'));
  symlinkSync('self.png', join(root, 'train', 'dog', 'self.png'));
  symlinkSync(join(root, 'test', 'dog'), join(root, 'train', 'dog', 'shared'));
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(warning.message);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const data = await loadImageFolder(root, 'train', { cacheDir: tempDir(t) });
  assert.deepEqual(data.paths, [
    'cat/0.png',
    'cat/1.png',
    'dog/0.png',
    'dog/1.png',
    'dog/shared/0.png',
    'dog/shared/1.png',
  ]);
  assert.equal(data.load.skipped.length, 3);
  assert.match(
    data.load.skipped[0],
    /train\/cat\/again: a symbolic link to .*train\/cat, a folder it is inside \(a cycle\); not followed$/,
  );
  assert.match(
    data.load.skipped.join('\n'),
    /train\/dog\/self\.png: a symbolic link that cannot be followed \(ELOOP\)/,
  );
  assert.match(
    data.load.skipped.join('\n'),
    /train\/dog\/up: a symbolic link to .*train, a folder it is inside \(a cycle\); not followed/,
  );
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /train: 3 entries were skipped: .*again: a symbolic link/s);
});
