/**
 * Failures of the inference service, each with the gRPC status code it travels as, so the in-process
 * engine, the server and the client report the same thing the same way.
 */
import { status, type ServiceError } from '@grpc/grpc-js';

export { status as GrpcStatus };

export const InferenceErrorCode = {
  /** The queue is full: try again later or elsewhere. */
  QueueFull: 'queue_full',
  /** The request's deadline passed before the model ran it; it was not run. */
  DeadlineExceeded: 'deadline_exceeded',
  /** The engine or server is closing. */
  ShuttingDown: 'shutting_down',
  /** A text or batch the service does not take (too long, too many, empty batch, bad top_k). */
  InvalidArgument: 'invalid_argument',
  /** The model failed to run (ONNX Runtime error, worker crash). */
  ModelFailed: 'model_failed',
  /** The service could not be reached, or answered with something else than expected. */
  Unavailable: 'unavailable',
} as const;
export type InferenceErrorCode = (typeof InferenceErrorCode)[keyof typeof InferenceErrorCode];

const GRPC_STATUS: Record<InferenceErrorCode, status> = {
  queue_full: status.RESOURCE_EXHAUSTED,
  deadline_exceeded: status.DEADLINE_EXCEEDED,
  shutting_down: status.UNAVAILABLE,
  invalid_argument: status.INVALID_ARGUMENT,
  model_failed: status.INTERNAL,
  unavailable: status.UNAVAILABLE,
};

export class InferenceError extends Error {
  override readonly name = 'InferenceError';
  constructor(
    readonly code: InferenceErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  /** The gRPC status this error is sent as. */
  get grpcStatus(): status {
    return GRPC_STATUS[this.code];
  }
}

/** The {@link InferenceErrorCode} a gRPC status code arrives as (client side). */
export function codeOfGrpcStatus(code: status): InferenceErrorCode {
  switch (code) {
    case status.RESOURCE_EXHAUSTED:
      return InferenceErrorCode.QueueFull;
    case status.DEADLINE_EXCEEDED:
      return InferenceErrorCode.DeadlineExceeded;
    case status.INVALID_ARGUMENT:
      return InferenceErrorCode.InvalidArgument;
    case status.INTERNAL:
      return InferenceErrorCode.ModelFailed;
    default:
      return InferenceErrorCode.Unavailable;
  }
}

/** A failed call as the client reports it; `address` is the service's, for the message. */
export function fromServiceError(error: ServiceError, address: string): InferenceError {
  // grpc-js refuses an oversized message with RESOURCE_EXHAUSTED too: not a full queue, and sending it
  // again later would not help.
  if (error.code === status.RESOURCE_EXHAUSTED && /larger than max/.test(error.details)) {
    return new InferenceError(
      InferenceErrorCode.InvalidArgument,
      `the request is larger than the inference service at ${address} takes: ${error.details}`,
      { cause: error },
    );
  }
  const code = codeOfGrpcStatus(error.code);
  const message =
    code === InferenceErrorCode.Unavailable
      ? `the inference service at ${address} is unavailable: ${error.details}`
      : error.details;
  return new InferenceError(code, message, { cause: error });
}

/** A caller's deadline passed with no answer from the service (the client's side of DEADLINE_EXCEEDED). */
export const notAnsweredInTime = (): InferenceError =>
  new InferenceError(
    InferenceErrorCode.DeadlineExceeded,
    'the inference service did not answer within the deadline',
  );
