import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A certificate and its key, as PEM file paths. */
export interface CertFiles {
  cert: string;
  key: string;
}

export interface TestCa extends CertFiles {
  /** Issues a certificate for `cn`: a client certificate, or a server one for 127.0.0.1/localhost. */
  issue(cn: string, kind?: 'client' | 'server'): CertFiles;
}

const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/**
 * A private CA in `dir` made with the openssl binary (Debian `openssl`), for TLS tests: P-256
 * keys, valid two days. Keys are made readable by all (mode 0644) because a broker started as root
 * (Mosquitto) drops to its own user before it reads them; they protect nothing outside the test.
 */
export function createTestCa(dir: string, name: string): TestCa {
  mkdirSync(dir, { recursive: true });
  const file = (n: string) => join(dir, `${name}-${n}`);
  const ca = { cert: file('ca.pem'), key: file('ca.key') };
  openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    ca.key,
    '-out',
    ca.cert,
    '-days',
    '2',
    '-subj',
    `/CN=${name} test CA`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  let serial = 0;
  return {
    ...ca,
    issue(cn, kind = 'client') {
      const out = { cert: file(`${cn}.pem`), key: file(`${cn}.key`) };
      const csr = file(`${cn}.csr`);
      const ext = file(`${cn}.ext`);
      writeFileSync(
        ext,
        kind === 'server'
          ? 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n'
          : 'extendedKeyUsage=clientAuth\n',
      );
      openssl([
        'req',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        out.key,
        '-out',
        csr,
        '-subj',
        `/CN=${cn}`,
      ]);
      openssl([
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        ca.cert,
        '-CAkey',
        ca.key,
        '-set_serial',
        String(++serial),
        '-days',
        '2',
        '-extfile',
        ext,
        '-out',
        out.cert,
      ]);
      chmodSync(out.key, 0o644);
      return out;
    },
  };
}
