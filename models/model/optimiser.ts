/**
 * Adam, dense for the small layers and lazy (sparse) for the embedding table: a row's moments and value
 * change only in the steps whose batch touched that row (TensorFlow's LazyAdam), so a step costs the rows a
 * batch uses, never the whole table.
 */

export interface AdamHyperParameters {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
}

/** Adam state of one parameter tensor. */
export class AdamState {
  private readonly m: Float32Array;
  private readonly v: Float32Array;

  constructor(
    readonly size: number,
    private readonly hyper: AdamHyperParameters,
  ) {
    this.m = new Float32Array(size);
    this.v = new Float32Array(size);
  }

  /**
   * One dense step: `param -= lr_t * m / (sqrt(v) + eps)` with the bias-corrected rate of step `step` (1-based).
   * `gradient` is the batch mean; it is left as it was.
   */
  stepDense(param: Float32Array, gradient: Float64Array, learningRate: number, step: number): void {
    const rate = this.correctedRate(learningRate, step);
    const { beta1, beta2, epsilon } = this.hyper;
    const m = this.m;
    const v = this.v;
    for (let i = 0; i < param.length; i++) {
      const g = gradient[i]!;
      const mi = beta1 * m[i]! + (1 - beta1) * g;
      const vi = beta2 * v[i]! + (1 - beta2) * g * g;
      m[i] = mi;
      v[i] = vi;
      param[i]! -= (rate * mi) / (Math.sqrt(vi) + epsilon);
    }
  }

  /**
   * One lazy step over the rows listed in `rows[0..count)`: row `rows[r]` of `param` (width `width`) takes the
   * gradient `gradient[r * width ..]`.
   */
  stepRows(
    param: Float32Array,
    width: number,
    rows: Int32Array,
    count: number,
    gradient: Float64Array,
    learningRate: number,
    step: number,
  ): void {
    const rate = this.correctedRate(learningRate, step);
    const { beta1, beta2, epsilon } = this.hyper;
    const m = this.m;
    const v = this.v;
    for (let r = 0; r < count; r++) {
      const offset = rows[r]! * width;
      const gradientOffset = r * width;
      for (let k = 0; k < width; k++) {
        const i = offset + k;
        const g = gradient[gradientOffset + k]!;
        const mi = beta1 * m[i]! + (1 - beta1) * g;
        const vi = beta2 * v[i]! + (1 - beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        param[i]! -= (rate * mi) / (Math.sqrt(vi) + epsilon);
      }
    }
  }

  private correctedRate(learningRate: number, step: number): number {
    const { beta1, beta2 } = this.hyper;
    return (learningRate * Math.sqrt(1 - beta2 ** step)) / (1 - beta1 ** step);
  }
}
