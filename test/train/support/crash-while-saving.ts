// A child process for the checkpoint crash tests: saves checkpoint version 1, then starts saving version 2
// and kills itself with SIGKILL just before the named step of that write (a real crash: no clean-up runs).
// Usage: node crash-while-saving.js <checkpoint folder> <step>. Without arguments it does nothing (the
// test runner may load it as a module).
import * as torch from '../../../src/torch/index.js';
import { saveCheckpoint, type CheckpointContents, type CheckpointStep } from '../../../src/train/checkpoint.js';

/** Checkpoint contents whose every number says which version they are. */
export function versionContents(version: number): CheckpointContents {
  return {
    weights: { weight: torch.full([4, 4], version), bias: torch.full([4], version) },
    weightsMetadata: { version: String(version) },
    trainer: {
      epoch: version,
      batch: 10 * version,
      bestAccuracy: version / 10,
      configHash: `hash-${version}`,
      epochTotals: { lossSum: version * 1.5, correct: version, seen: 2 * version },
      optimizer: {
        state: { 0: { step: torch.tensor(version), momentum_buffer: torch.full([4, 4], version) } },
        param_groups: [{ lr: version, params: [0, 1] }],
      },
      scheduler: { last_epoch: version },
      rngState: torch.getRngState(),
    },
    testAccuracy: version / 10,
  };
}

const [folder, crashStep] = process.argv.slice(2);
if (folder && crashStep) {
  saveCheckpoint(folder, versionContents(1));
  saveCheckpoint(folder, versionContents(2), {
    onStep: (step: CheckpointStep) => {
      if (step === crashStep) process.kill(process.pid, 'SIGKILL');
    },
  });
}
