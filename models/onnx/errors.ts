/** Errors of ONNX export and ONNX Runtime inference. */

export const OnnxErrorCode = {
  /** Bytes are not a Parley intent model in ONNX (not ONNX at all, or without Parley's metadata). */
  InvalidModel: 'ONNX_INVALID_MODEL',
  /** ONNX Runtime refused to load a model. */
  SessionFailed: 'ONNX_SESSION_FAILED',
  /** ONNX Runtime failed to run a batch. */
  RunFailed: 'ONNX_RUN_FAILED',
} as const;
export type OnnxErrorCode = (typeof OnnxErrorCode)[keyof typeof OnnxErrorCode];

export class OnnxModelError extends Error {
  override readonly name = 'OnnxModelError';
  readonly code = OnnxErrorCode.InvalidModel;
  constructor(reason: string, options?: ErrorOptions) {
    super(`not a Parley intent model in ONNX: ${reason}`, options);
  }
}

/** ONNX Runtime could not create a session or run it; `cause` is its own error. */
export class OnnxRuntimeError extends Error {
  override readonly name = 'OnnxRuntimeError';
  constructor(
    readonly code: typeof OnnxErrorCode.SessionFailed | typeof OnnxErrorCode.RunFailed,
    /** The model file, or `<bytes>` for an in-memory model. */
    readonly model: string,
    options: ErrorOptions & { cause: unknown },
  ) {
    const what = code === OnnxErrorCode.SessionFailed ? 'load' : 'run';
    const detail = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(`onnxruntime could not ${what} ${model}: ${detail}`, options);
  }
}
