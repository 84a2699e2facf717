/**
 * A training progress bar for terminals: redrawn in place on a TTY, one plain line per epoch otherwise
 * (logs, CI). Feed it the trainer's progress events through `onProgress`.
 *
 * @example
 * ```ts
 * const bar = createProgressBar();
 * const model = await trainIntentModel(data, { onProgress: bar.onProgress });
 * ```
 */
import { performance } from 'node:perf_hooks';
import type { TrainingProgress } from './progress.js';

/** Where the bar writes: `process.stderr` or anything with the same `write`. */
export interface ProgressOutput {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface ProgressBarOptions {
  /** @default process.stderr */
  output?: ProgressOutput;
  /** Redraws in place when true, one line per epoch when false. @default output.isTTY */
  interactive?: boolean;
  /** Least time between two redraws of the bar. @default 100 */
  redrawIntervalMs?: number;
}

export interface ProgressBar {
  /** Pass as `TrainOptions.onProgress`. */
  readonly onProgress: (progress: TrainingProgress) => void;
}

const BAR_WIDTH = 24;

export function createProgressBar(options: ProgressBarOptions = {}): ProgressBar {
  const output = options.output ?? process.stderr;
  const interactive = options.interactive ?? output.isTTY === true;
  const interval = options.redrawIntervalMs ?? 100;
  let lastDraw = -Infinity;
  let lastValidation: number | undefined;

  const draw = (line: string): void => {
    const columns = output.columns ?? 100;
    output.write(`\r${line.slice(0, Math.max(10, columns - 1)).padEnd(Math.max(10, columns - 1))}`);
  };

  const onProgress = (progress: TrainingProgress): void => {
    switch (progress.type) {
      case 'batch': {
        if (!interactive) return;
        const now = performance.now();
        if (now - lastDraw < interval && progress.batch !== progress.batches) return;
        lastDraw = now;
        const done = (progress.epoch - 1 + progress.batch / progress.batches) / progress.maxEpochs;
        const filled = Math.round(done * BAR_WIDTH);
        const bar = `${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}`;
        const validation = lastValidation === undefined ? '' : `  val ${percent(lastValidation)}`;
        draw(
          `epoch ${progress.epoch}/${progress.maxEpochs} [${bar}] loss ${progress.loss.toFixed(3)}${validation}`,
        );
        return;
      }
      case 'epoch': {
        lastValidation = progress.validationAccuracy;
        if (interactive) return;
        const validation =
          progress.validationAccuracy === undefined ? '' : `  val ${percent(progress.validationAccuracy)}`;
        output.write(
          `epoch ${progress.epoch}/${progress.maxEpochs}  loss ${progress.trainLoss.toFixed(3)}  train ${percent(progress.trainAccuracy)}${validation}${progress.best ? '  (best)' : ''}  ${seconds(progress.elapsedMs)}\n`,
        );
        return;
      }
      case 'done': {
        const why =
          progress.reason === 'patience' ? 'validation accuracy stopped improving' : 'epoch budget spent';
        const summary = `trained ${progress.epochs} epochs in ${seconds(progress.elapsedMs)} (${why}); kept epoch ${progress.bestEpoch}`;
        if (interactive) draw(summary);
        output.write(interactive ? '\n' : `${summary}\n`);
        return;
      }
      default: {
        const unknown: never = progress;
        throw new Error(`unknown progress ${JSON.stringify(unknown)}`);
      }
    }
  };
  return { onProgress };
}

function percent(value: number): string {
  return `${(value * 100).toFixed(2)}%`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}
