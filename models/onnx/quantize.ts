/**
 * Symmetric INT8 quantization of the weights: `value ≈ q * scale` with `q` in [-qmax, qmax] and zero point 0,
 * one scale per column: per output column for the dense layers (the usual per-channel weight quantization),
 * per dimension for the embedding table, whose scales then apply once to a text's summed rows rather than
 * to each gathered row (see `integerBag` in `export-onnx.ts`).
 */

/** Int8 values and their float32 scales. */
export interface QuantizedTensor {
  readonly values: Int8Array;
  readonly scales: Float32Array;
}

/**
 * The largest quantized magnitude. 127 uses the full int8 range; 63 ("reduce range", 7-bit weights) keeps
 * `uint8 activation × int8 weight` pair sums inside int16, which x86 AVX2/AVX-512 CPUs without VNNI
 * accumulate with saturation in ONNX Runtime's u8s8 kernels.
 */
export type QuantizedMax = 127 | 63;

/** One scale per column of a row-major `[rows, cols]` matrix. */
export function quantizePerColumn(
  matrix: Float32Array,
  rows: number,
  cols: number,
  qmax: QuantizedMax,
): QuantizedTensor {
  const values = new Int8Array(rows * cols);
  const scales = new Float32Array(cols);
  const maxAbs = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) maxAbs[c] = Math.max(maxAbs[c]!, Math.abs(matrix[r * cols + c]!));
  }
  for (let c = 0; c < cols; c++) scales[c] = Math.fround(maxAbs[c]! / qmax);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const scale = scales[c]!;
      if (scale !== 0) values[r * cols + c] = quantizeValue(matrix[r * cols + c]!, scale, qmax);
    }
  }
  return { values, scales };
}

function quantizeValue(value: number, scale: number, qmax: number): number {
  const q = Math.round(Math.abs(value) / scale);
  return Math.sign(value) * Math.min(q, qmax);
}
