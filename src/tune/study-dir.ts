// The study directory: everything one study leaves behind.
//   study.db           the study and its trials (storage.ts); the only file workers share
//   trials/<number>/   each trial's run directory, with the files of a `senet train` run
//   best-config.json   the best complete trial's config, for `senet train --config`
//   plots/*.svg        history, intermediate values, parameters (plots.ts)
// The study's name in the database is the directory's name.
import { basename, join, resolve } from 'node:path';

export const STUDY_FILES = {
  db: 'study.db',
  trials: 'trials',
  bestConfig: 'best-config.json',
  plots: 'plots',
} as const;

export interface StudyPaths {
  dir: string;
  name: string;
  db: string;
  bestConfig: string;
  plots: string;
}

export function studyPaths(dir: string): StudyPaths {
  const full = resolve(dir);
  return {
    dir: full,
    name: basename(full),
    db: join(full, STUDY_FILES.db),
    bestConfig: join(full, STUDY_FILES.bestConfig),
    plots: join(full, STUDY_FILES.plots),
  };
}
