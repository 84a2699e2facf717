/**
 * Throwaway TLS material for tests of TLS and mutual TLS: a CA, a server certificate for localhost,
 * 127.0.0.1 and ::1, and a client certificate, made by `ops/tls/make-dev-certs.sh` in a temp dir.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const MAKE_DEV_CERTS_SCRIPT = fileURLToPath(
  new URL('../../ops/tls/make-dev-certs.sh', import.meta.url),
);

/** PEM files of a development CA and the certificates it signed; the temp dir is removed on dispose. */
export interface DevCertificates extends AsyncDisposable {
  /** The dir holding `ca.crt ca.key server.crt server.key client.crt client.key`. */
  readonly dir: string;
  readonly ca: Buffer;
  readonly serverCert: Buffer;
  readonly serverKey: Buffer;
  readonly clientCert: Buffer;
  readonly clientKey: Buffer;
}

/**
 * Runs the development CA script into a fresh temp dir and reads what it made. Throws with the script's
 * output when it fails (openssl missing, for one).
 *
 * @example
 * ```ts
 * await using certs = await makeDevCertificates();
 * const credentials = ServerCredentials.createSsl(certs.ca, [
 *   { cert_chain: certs.serverCert, private_key: certs.serverKey },
 * ], true);
 * ```
 */
export async function makeDevCertificates(): Promise<DevCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-tls-'));
  try {
    await promisify(execFile)(MAKE_DEV_CERTS_SCRIPT, [dir]);
    const read = (name: string): Promise<Buffer> => readFile(join(dir, name));
    const [ca, serverCert, serverKey, clientCert, clientKey] = await Promise.all([
      read('ca.crt'),
      read('server.crt'),
      read('server.key'),
      read('client.crt'),
      read('client.key'),
    ]);
    let removed: Promise<void> | undefined;
    return {
      dir,
      ca,
      serverCert,
      serverKey,
      clientCert,
      clientKey,
      [Symbol.asyncDispose]: () => (removed ??= rm(dir, { recursive: true, force: true })),
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`${MAKE_DEV_CERTS_SCRIPT} failed: ${messageOf(error)}`, { cause: error });
  }
}

function messageOf(error: unknown): string {
  if (error instanceof Error && 'stderr' in error && typeof error.stderr === 'string' && error.stderr) {
    return error.stderr.trim();
  }
  return error instanceof Error ? error.message : String(error);
}
