import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeDevCertificates, type DevCertificates } from '../../test/testkit/index.js';
import { readTlsFiles } from './tls.js';

describe('inference TLS files', () => {
  let certs: DevCertificates;
  before(async () => {
    certs = await makeDevCertificates();
    await writeFile(join(certs.dir, 'garbage.pem'), 'not a certificate\n');
  });
  after(async () => {
    await certs?.[Symbol.asyncDispose]();
  });
  const file = (name: string): string => join(certs.dir, name);

  it('tls - reads a CA, a certificate and its key', async () => {
    const read = await readTlsFiles({
      ca: file('ca.crt'),
      cert: file('server.crt'),
      key: file('server.key'),
    });
    assert.deepEqual(read, { ca: certs.ca, cert: certs.serverCert, key: certs.serverKey });
    assert.deepEqual(await readTlsFiles({ ca: file('ca.crt') }), { ca: certs.ca }, 'a client trusting a CA');
  });

  it('tls - names every file that is missing or holds the wrong thing, in the order CA, certificate, key', async () => {
    await assert.rejects(
      readTlsFiles({ ca: file('garbage.pem'), cert: file('missing.crt'), key: file('server.crt') }),
      (error: Error) => {
        const problems = error.message.split('; ');
        assert.equal(problems.length, 3, error.message);
        assert.match(problems[0]!, /^the TLS CA file .*garbage\.pem is not a PEM certificate: /);
        assert.match(problems[1]!, /^cannot read the TLS certificate file .*missing\.crt: .*ENOENT/);
        assert.match(problems[2]!, /^the TLS key file .*server\.crt is not a PEM private key: /);
        return true;
      },
    );
  });

  it("tls - a key that is not the certificate's is refused", async () => {
    await assert.rejects(
      readTlsFiles({ cert: file('server.crt'), key: file('client.key') }),
      /^Error: the TLS key file .*client\.key is not the key of the certificate .*server\.crt$/,
    );
  });
});
