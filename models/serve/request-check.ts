/**
 * Requests checked as the server reads them. grpc-js answers a request its decoder throws on with
 * INTERNAL "Error deserializing request", which blames the server; and protobuf decoders turn bytes that
 * are not UTF-8 into U+FFFD without a word, so the model would classify a text nobody sent. With
 * {@link checkedNluService}, such a request reaches its handler marked, and {@link refusalOf} tells the
 * handler why to answer INVALID_ARGUMENT.
 */
import { isUtf8 } from 'node:buffer';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { nlu } from '../../proto/index.js';

const refusals = new WeakMap<object, string>();

/** Why a request read through {@link checkedNluService} must be refused, or `undefined` to run it. */
export function refusalOf(request: object): string | undefined {
  return refusals.get(request);
}

interface MessageType<T extends object> {
  decode(input: Uint8Array): T;
  fromPartial(object: Record<string, never>): T;
}

/**
 * A decoder of `type` that never throws: a request that is not a protobuf message of its type comes out
 * empty and refused; one whose string fields (`strings`: field number to name) are not all UTF-8 comes
 * out decoded and refused.
 */
function checked<T extends object>(
  type: MessageType<T>,
  name: string,
  strings: Readonly<Record<number, string>>,
): (bytes: Buffer) => T {
  return (bytes) => {
    let message: T;
    try {
      message = type.decode(bytes);
    } catch (error) {
      const empty = type.fromPartial({});
      const reason = error instanceof Error ? error.message : String(error);
      refusals.set(empty, `the request is not a valid ${name} message (${reason})`);
      return empty;
    }
    const field = firstNonUtf8(bytes, strings);
    if (field !== undefined) refusals.set(message, `the request's ${field} is not valid UTF-8`);
    return message;
  };
}

/** The name of the first string field whose bytes are not UTF-8. The message decoded, so it parses. */
function firstNonUtf8(bytes: Uint8Array, strings: Readonly<Record<number, string>>): string | undefined {
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    const name = strings[field];
    if (name !== undefined && wireType === WireType.LengthDelimited) {
      if (!isUtf8(reader.bytes())) return name;
    } else {
      reader.skip(wireType, field);
    }
  }
  return undefined;
}

/** `parley.v1.NluService` with every request read by a checking decoder (see the module comment). */
export const checkedNluService: typeof nlu.NluServiceService = {
  ...nlu.NluServiceService,
  classify: {
    ...nlu.NluServiceService.classify,
    requestDeserialize: checked(nlu.ClassifyRequest, 'ClassifyRequest', { 1: 'text' }),
  },
  classifyBatch: {
    ...nlu.NluServiceService.classifyBatch,
    requestDeserialize: checked(nlu.ClassifyBatchRequest, 'ClassifyBatchRequest', { 1: 'texts' }),
  },
  classifyStream: {
    ...nlu.NluServiceService.classifyStream,
    requestDeserialize: checked(nlu.ClassifyStreamRequest, 'ClassifyStreamRequest', { 2: 'text' }),
  },
};
