/** What the trainer reports while it runs (see `TrainOptions.onProgress`). */
export type TrainingProgress =
  /** One optimiser step is done. */
  | {
      readonly type: 'batch';
      /** 1-based. */
      readonly epoch: number;
      readonly maxEpochs: number;
      /** 1-based, within the epoch. */
      readonly batch: number;
      readonly batches: number;
      /** Mean training cross-entropy of the epoch so far. */
      readonly loss: number;
    }
  /** One pass over the training data is done and evaluated. */
  | {
      readonly type: 'epoch';
      readonly epoch: number;
      readonly maxEpochs: number;
      /** Mean training cross-entropy of the epoch (with dropout). */
      readonly trainLoss: number;
      /** Training accuracy during the epoch (with dropout). */
      readonly trainAccuracy: number;
      /** Accuracy on the validation examples; `undefined` without validation data. */
      readonly validationAccuracy: number | undefined;
      /** Whether this epoch is the best so far (the one that will be kept). */
      readonly best: boolean;
      /** Wall-clock time since training started. */
      readonly elapsedMs: number;
    }
  /** Training ended. */
  | {
      readonly type: 'done';
      /** `patience`: validation accuracy stopped improving; `maxEpochs`: the epoch budget ran out. */
      readonly reason: 'patience' | 'maxEpochs';
      readonly epochs: number;
      readonly bestEpoch: number;
      readonly elapsedMs: number;
    };
