/**
 * TLS and mutual TLS for the inference service. Certificates arrive as PEM bytes; `ops/tls/` makes a
 * development CA and certificates (`ops/tls/make-dev-certs.sh`).
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { credentials, ServerCredentials, type ChannelCredentials } from '@grpc/grpc-js';

export interface ServerTls {
  /** The server's certificate chain (PEM). */
  readonly cert: Buffer;
  /** Its private key (PEM). */
  readonly key: Buffer;
  /** CA certificates that sign client certificates (PEM); required with `requireClientCert`. */
  readonly ca?: Buffer;
  /** Mutual TLS: refuse a client that does not present a certificate signed by `ca`. @default false */
  readonly requireClientCert?: boolean;
}

export interface ClientTls {
  /** CA certificates that sign the server's certificate (PEM). @default the system's roots */
  readonly ca?: Buffer;
  /** The client's certificate and key, for a server that requires mutual TLS. */
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

/** Paths of PEM files, as configuration names them. */
export interface TlsPaths {
  readonly ca?: string | undefined;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
}

export function serverCredentials(tls: ServerTls | undefined): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  if (tls.requireClientCert && !tls.ca) {
    throw new TypeError('mutual TLS needs the CA that signs client certificates (tls.ca)');
  }
  return ServerCredentials.createSsl(
    tls.ca ?? null,
    [{ cert_chain: tls.cert, private_key: tls.key }],
    tls.requireClientCert ?? false,
  );
}

export function channelCredentials(tls: ClientTls | undefined): ChannelCredentials {
  if (!tls) return credentials.createInsecure();
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new TypeError('a client certificate needs its key, and a key its certificate');
  }
  return credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null);
}

/**
 * Reads the PEM files that are named and checks what they hold: the CA and the certificate must be PEM
 * certificates, the key a PEM private key, and the key the certificate's. Every problem is named in the
 * one error, in the order CA, certificate, key (not whichever read happened to fail first): otherwise a
 * bad file surfaces much later, as a server that "cannot listen" or a client for which the service is
 * "unavailable".
 */
export async function readTlsFiles(paths: TlsPaths): Promise<{ ca?: Buffer; cert?: Buffer; key?: Buffer }> {
  const files = [
    ['CA', paths.ca],
    ['certificate', paths.cert],
    ['key', paths.key],
  ] as const;
  const reads = await Promise.allSettled(
    files.map(async ([, path]) => (path === undefined ? undefined : readFile(path))),
  );
  const problems: { message: string; cause: unknown }[] = [];
  const [ca, cert, key] = reads.map((read, i) => {
    const [name, path] = files[i]!;
    if (read.status === 'rejected') {
      const error = read.reason as Error;
      problems.push({ message: `cannot read the TLS ${name} file ${path}: ${error.message}`, cause: error });
      return undefined;
    }
    const pem = read.value;
    if (pem === undefined) return undefined;
    try {
      // Both also read DER, which grpc-js does not: the PEM armour is checked first.
      if (!pem.includes('-----BEGIN ')) throw new Error('no PEM block (-----BEGIN ...) in it');
      if (name === 'key') createPrivateKey(pem);
      else new X509Certificate(pem);
    } catch (error) {
      const what = name === 'key' ? 'a PEM private key' : 'a PEM certificate';
      problems.push({
        message: `the TLS ${name} file ${path} is not ${what}: ${(error as Error).message}`,
        cause: error,
      });
      return undefined;
    }
    return pem;
  });
  if (cert && key && !new X509Certificate(cert).checkPrivateKey(createPrivateKey(key))) {
    problems.push({
      message: `the TLS key file ${paths.key} is not the key of the certificate ${paths.cert}`,
      cause: undefined,
    });
  }
  if (problems.length > 0) {
    throw new Error(problems.map((problem) => problem.message).join('; '), { cause: problems[0]!.cause });
  }
  return {
    ...(ca && { ca }),
    ...(cert && { cert }),
    ...(key && { key }),
  };
}
