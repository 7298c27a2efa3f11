// The options of `senet train` are derived from the config table (config-schema.ts): every field's flag,
// negation and shorthands are listed in --help with the field's default, no option is declared outside the
// table but the few that set several fields, and the flags land in config.json as the table says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command, Option } from 'commander';
import { buildProgram } from '../../src/cli/main.js';
import { LAUNCH_FLAGS } from '../../src/cli/launch.js';
import { CONFIG_KEYS, fieldSpec } from '../../src/train/config.js';
import { tempDir } from '../data/support.js';
import { errorLine, senetInProcess } from './support.js';

const trainCommand = (): Command => buildProgram().commands.find((c) => c.name() === 'train')!;
const longFlag = (flags: string) => /--[\w-]+/.exec(flags)![0];

/**
 * Options that are not one field each: they set several fields, part of one, say where the config comes from,
 * or how many processes train it (the launcher's, src/cli/launch.ts).
 */
const NOT_FIELDS = [
  '--se-reduction',
  '--normalize',
  '--config',
  '--resume',
  ...LAUNCH_FLAGS,
  '--dist-timeout',
  '--sync-batchnorm',
];

test("every field's flag, negation and shorthands are in `senet train --help`, and nothing else but the others", () => {
  const train = trainCommand();
  const help = train.helpInformation();
  const byFlag = new Map<string, Option>(train.options.map((o) => [o.long!, o]));
  const fromTable: string[] = [];
  for (const key of CONFIG_KEYS) {
    const { flag, default: value } = fieldSpec(key);
    assert.ok(flag, `${key} has a flag`);
    const long = longFlag(flag.flags);
    const option = byFlag.get(long);
    assert.ok(option, `${long} is an option`);
    assert.equal(option.flags, flag.flags);
    assert.ok(help.includes(flag.flags), `--help lists ${flag.flags}`);
    assert.ok(option.description.startsWith(flag.help), `${long}: ${option.description}`);
    if (value !== null && typeof value !== 'boolean') {
      const shown = Array.isArray(value) ? value.join(',') : String(value);
      assert.match(
        option.description,
        new RegExp(`\\(default ${shown.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)$`),
        `${long} shows its default`,
      );
    }
    fromTable.push(long);
    if (flag.negation !== undefined) {
      const opposite = long.startsWith('--no-') ? `--${long.slice(5)}` : `--no-${long.slice(2)}`;
      assert.equal(byFlag.get(opposite)?.description, flag.negation, opposite);
      assert.ok(help.includes(opposite));
      fromTable.push(opposite);
    }
    for (const shorthand of flag.shorthands ?? []) {
      assert.equal(byFlag.get(shorthand.flags)?.description, shorthand.help);
      fromTable.push(shorthand.flags);
    }
  }
  assert.deepEqual([...byFlag.keys()].sort(), [...fromTable, ...NOT_FIELDS].sort());
  // The short forms stay.
  for (const short of ['-r, --recipe', '-m, --model', '-d, --data', '-e, --epochs', '-b, --batch-size', '-o, --out']) {
    assert.ok(help.includes(short), short);
  }
});

test('flags reach config.json as the table says: negations, shorthands, null from --no-ema, lists and objects', async (t) => {
  const work = tempDir(t, 'senet-train-options-');
  // The data folder does not exist: each run stops at data preparation, after writing its config.
  const config = async (...args: string[]) => {
    const out = join(work, `run-${args.join('').replace(/\W/g, '')}`);
    const result = await senetInProcess('train', ...args, '--data', join(work, 'no-data'), '--out', out);
    assert.equal(result.code, 1);
    assert.match(errorLine(result.stderr), /no-data/);
    return JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  };
  const resnet = await config(
    '--recipe',
    'resnet',
    '--decay-bn-bias',
    '--mixed-precision',
    'none',
    '--bf16',
    '--channels-last',
    '--ema',
    '0.9',
    '--schedule',
    'multistep',
    '--milestones',
    '50,100',
    '--attention',
    '{"type":"eca"}',
    '--no-shuffle',
    '-e',
    '150',
  );
  assert.equal(resnet.decayBnAndBias, true); // --decay-bn-bias over the recipe's false
  assert.equal(resnet.mixedPrecision, 'bf16'); // the shorthand wins over the field's own flag
  assert.equal(resnet.memoryFormat, 'channelsLast');
  assert.equal(resnet.ema, 0.9);
  assert.deepEqual(resnet.milestones, [50, 100]);
  assert.deepEqual(resnet.attention, { type: 'eca' });
  assert.equal(resnet.shuffle, false);
  assert.equal(resnet.epochs, 150);
  assert.equal(resnet.nesterov, true); // untouched recipe field

  const fast = await config(
    '--recipe',
    'fast',
    '--no-ema',
    '--no-decay-bn-bias',
    '--no-whiten',
    '--no-identity-init',
    '--no-freeze-bn-scale',
    '--memory-format',
    'contiguous',
    '--normalize',
    'half',
  );
  assert.equal(fast.ema, null); // --no-ema: the field's null
  assert.equal(fast.decayBnAndBias, false);
  assert.equal(fast.whiten, false);
  assert.equal(fast.identityInit, false);
  assert.equal(fast.freezeBnScale, false);
  assert.equal(fast.memoryFormat, 'contiguous');
  assert.deepEqual(fast.mean, [0.5, 0.5, 0.5]);
});

test("bad flag values: the parser the field's kind gives, then the field's own check, each naming the flag", async () => {
  const cases: [string[], RegExp][] = [
    [
      ['--epochs', 'x'],
      /^senet: option '-e, --epochs <n>' argument 'x' is invalid\. --epochs expects an integer, got 'x'$/,
    ],
    [['--lr', 'fast'], /--lr expects a number, got 'fast'/],
    [['--optimizer', 'rmsprop'], /--optimizer expects one of adam, sgd, adamw, got 'rmsprop'/],
    [['--milestones', '3,x'], /--milestones expects comma-separated integers/],
    [['--mean', '0.5,,0.5'], /--mean expects comma-separated numbers/],
    [['--attention', '[1]'], /--attention expects a JSON object such as '\{"type":"se","reduction":8\}'/],
    [['--epochs', '0'], /^senet: --epochs is 0; expected an integer in \[1, 10000\]$/],
    [['--batch-size', '1000000'], /^senet: --batch-size is 1000000; expected an integer in \[1, 65536\]$/],
    [['--no-decay-bn-bias', '--lr', '-1'], /^senet: --lr is -1; expected a number > 0$/],
    [['--ema', '1'], /^senet: --ema is 1; expected a decay in \(0, 1\) such as 0\.99, or null for no averaging$/],
    [['--out', ' '], /^senet: --out is " "; expected a non-empty string, or null$/],
  ];
  for (const [args, pattern] of cases) {
    const result = await senetInProcess('train', ...args);
    assert.equal(result.code, 1, args.join(' '));
    assert.match(errorLine(result.stderr), pattern, args.join(' '));
  }
});
