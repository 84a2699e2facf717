import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAKE_DEV_CERTS_SCRIPT, makeDevCertificates, type DevCertificates } from './testkit/index.js';

const run = promisify(execFile);
const DAY_MS = 24 * 60 * 60 * 1000;
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const FILES = ['ca.crt', 'ca.key', 'server.crt', 'server.key', 'client.crt', 'client.key'] as const;

function validDays(cert: X509Certificate): number {
  return Math.round((Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / DAY_MS);
}

describe('make-dev-certs.sh - development CA', () => {
  let certs: DevCertificates;
  let ca: X509Certificate;
  let server: X509Certificate;
  let client: X509Certificate;

  before(async () => {
    certs = await makeDevCertificates();
    ca = new X509Certificate(certs.ca);
    server = new X509Certificate(certs.serverCert);
    client = new X509Certificate(certs.clientCert);
  });

  after(async () => {
    await certs[Symbol.asyncDispose]();
  });

  it('signs the server and client certificates with the CA (openssl verify)', async () => {
    for (const name of ['server.crt', 'client.crt']) {
      const { stdout } = await run('/usr/bin/openssl', ['verify', '-CAfile', 'ca.crt', name], {
        cwd: certs.dir,
      });
      assert.equal(stdout.trim(), `${name}: OK`);
    }
  });

  it('makes a self-signed CA valid for 10 years', () => {
    assert.ok(ca.ca);
    assert.ok(ca.verify(ca.publicKey));
    assert.equal(ca.subject, ca.issuer);
    assert.ok(validDays(ca) >= 3650 && validDays(ca) <= 3652, `${validDays(ca)} days`);
  });

  it('makes a server certificate for localhost, 127.0.0.1 and ::1, for server auth only', () => {
    assert.ok(server.verify(ca.publicKey));
    assert.ok(!server.ca);
    assert.match(server.subjectAltName ?? '', /DNS:localhost/);
    assert.match(server.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
    assert.equal(server.checkHost('localhost'), 'localhost');
    assert.equal(server.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(server.checkIP('::1'), '::1');
    assert.equal(server.checkHost('example.com'), undefined);
    assert.deepEqual(server.keyUsage, [SERVER_AUTH]);
    assert.equal(validDays(server), 825);
  });

  it('makes a client certificate CN=parley-client, for client auth only', () => {
    assert.ok(client.verify(ca.publicKey));
    assert.match(client.subject, /CN=parley-client/);
    assert.deepEqual(client.keyUsage, [CLIENT_AUTH]);
  });

  it('makes EC P-256 keys readable by their owner only', async () => {
    for (const [name, key] of [
      ['ca.key', undefined],
      ['server.key', certs.serverKey],
      ['client.key', certs.clientKey],
    ] as const) {
      const { mode } = await stat(join(certs.dir, name));
      assert.equal(mode & 0o777, 0o600, name);
      const details = createPrivateKey(key ?? (await readFile(join(certs.dir, name)))).asymmetricKeyDetails;
      assert.equal(details?.namedCurve, 'prime256v1', name);
    }
    assert.equal(ca.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  });

  it('lets a client with its certificate through mutual TLS, and turns away one without', async () => {
    const tlsServer = createServer(
      {
        cert: certs.serverCert,
        key: certs.serverKey,
        ca: certs.ca,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (socket) => socket.end(`hello ${String(socket.getPeerCertificate().subject.CN)}`),
    );
    tlsServer.on('tlsClientError', () => {});
    tlsServer.listen(0, '127.0.0.1');
    await once(tlsServer, 'listening');
    const address = tlsServer.address();
    assert.ok(address !== null && typeof address === 'object');
    try {
      const greeting = async (socket: TLSSocket): Promise<string> => {
        let text = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (text += chunk));
        await once(socket, 'end');
        return text;
      };

      const withCert = connect({
        host: '127.0.0.1',
        port: address.port,
        servername: 'localhost',
        ca: certs.ca,
        cert: certs.clientCert,
        key: certs.clientKey,
      });
      assert.equal(await greeting(withCert), 'hello parley-client');
      assert.ok(withCert.authorized);

      const withoutCert = connect({
        host: '127.0.0.1',
        port: address.port,
        servername: 'localhost',
        ca: certs.ca,
      });
      await assert.rejects(greeting(withoutCert), /certificate required|alert/i);
      withoutCert.destroy();
    } finally {
      tlsServer.close();
    }
  });

  it('refuses to overwrite an existing CA without --force, and leaves the files alone', async () => {
    const original = await Promise.all(FILES.map((name) => readFile(join(certs.dir, name))));
    await assert.rejects(run(MAKE_DEV_CERTS_SCRIPT, [certs.dir]), (error: unknown) => {
      assert.ok(error instanceof Error && 'code' in error && 'stderr' in error);
      assert.equal(error.code, 1);
      assert.match(String(error.stderr), /ca\.key already exists.*--force/s);
      return true;
    });
    const afterwards = await Promise.all(FILES.map((name) => readFile(join(certs.dir, name))));
    assert.deepEqual(afterwards, original);
  });
});
