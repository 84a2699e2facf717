/**
 * A grpc-js service with one unary method that answers the bytes it got: the cost of a gRPC call on this
 * machine with no work behind it, the ceiling `inference.bench.ts` compares the inference service with.
 * Defined as a plain service definition with identity (de)serializers, so no proto and no codec.
 * `echo-server.ts` serves it in a child process.
 */
import {
  makeGenericClientConstructor,
  type CallOptions,
  type ChannelCredentials,
  type ClientUnaryCall,
  type Metadata,
  type ServiceDefinition,
  type ServiceError,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';

const identity = (bytes: Buffer): Buffer => bytes;

export const EchoService = {
  echo: {
    path: '/parley.bench.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
} satisfies ServiceDefinition<UntypedServiceImplementation>;

export interface EchoClient {
  echo(
    request: Buffer,
    metadata: Metadata,
    options: Partial<CallOptions>,
    callback: (error: ServiceError | null, response: Buffer) => void,
  ): ClientUnaryCall;
  close(): void;
}

// makeGenericClientConstructor types its methods as `Function`; this is the shape it builds for EchoService.
export const EchoClient = makeGenericClientConstructor(EchoService, 'parley.bench.Echo') as unknown as new (
  address: string,
  credentials: ChannelCredentials,
) => EchoClient;
