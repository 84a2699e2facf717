/**
 * Symmetric INT8 quantization of the weights: `value ≈ q * scale` with `q` in [-qmax, qmax] and zero point 0.
 * The embedding table gets one scale per row (each row is one feature's vector), the dense layers one per
 * output column (the usual per-channel weight quantization).
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

/** One scale per row of a row-major `[rows, cols]` matrix. All-zero rows get scale 0 and stay zero. */
export function quantizePerRow(
  matrix: Float32Array,
  rows: number,
  cols: number,
  qmax: QuantizedMax,
): QuantizedTensor {
  const values = new Int8Array(rows * cols);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const offset = r * cols;
    let maxAbs = 0;
    for (let c = 0; c < cols; c++) maxAbs = Math.max(maxAbs, Math.abs(matrix[offset + c]!));
    const scale = Math.fround(maxAbs / qmax);
    scales[r] = scale;
    if (scale === 0) continue;
    for (let c = 0; c < cols; c++) values[offset + c] = quantizeValue(matrix[offset + c]!, scale, qmax);
  }
  return { values, scales };
}

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
