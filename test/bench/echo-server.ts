/**
 * The grpc-js echo service (`grpc-echo.ts`) as a process of its own, for `inference.bench.ts`:
 * `node --import tsx test/bench/echo-server.ts` prints the port it listens on (127.0.0.1, a free port)
 * as one line on stdout and runs until its stdin closes.
 */
import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { EchoService } from './grpc-echo.js';

const server = new Server();
server.addService(EchoService, {
  echo(call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) {
    callback(null, call.request);
  },
});
const port = await new Promise<number>((resolve, reject) =>
  server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
    error ? reject(error) : resolve(bound),
  ),
);
console.log(String(port));
process.stdin.resume();
process.stdin.on('end', () => server.tryShutdown(() => process.exit(0)));
