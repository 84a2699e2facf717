import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { OUT_OF_SCOPE } from './dataset.js';
import { loadDataset } from './load-dataset.js';

// The benchmark's data lives outside the repository and is never copied into it.
const CLINC150 = fileURLToPath(new URL('../../../shared/datasets/clinc150/data_full.json', import.meta.url));
const absent = existsSync(CLINC150) ? false : `CLINC150 not found at ${CLINC150}`;

describe('clinc150 full', () => {
  it(
    'clinc150 - the real data_full.json has the published split sizes and 150 intents',
    { skip: absent },
    async () => {
      const dataset = await loadDataset(CLINC150);
      assert.equal(dataset.format, 'clinc150');
      assert.equal(dataset.train.length, 15_100);
      assert.equal(dataset.validation?.length, 3_100);
      assert.equal(dataset.test?.length, 5_500);
      assert.equal(dataset.labels.length, 150);
      assert.ok(!dataset.labels.includes(OUT_OF_SCOPE));
      const outOfScope = (split: readonly { label: string }[] | undefined): number =>
        split?.filter((example) => example.label === OUT_OF_SCOPE).length ?? 0;
      assert.deepEqual(
        [outOfScope(dataset.train), outOfScope(dataset.validation), outOfScope(dataset.test)],
        [100, 100, 1_000],
      );
      assert.deepEqual(dataset.train[0], {
        text: 'what expression would i use to say i love you if i were an italian',
        label: 'translate',
      });
    },
  );
});
