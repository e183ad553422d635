import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { EmbeddedTlsOptions } from './broker/embedded.js';

/** The variables read here (a structural slice of config.ts' ServerEnv, which imports this file). */
interface TlsEnv {
  PORT: number;
  MQTT_URL?: string | undefined;
  MQTT_PORT: number;
  MQTT_TLS_PORT?: number | undefined;
  TLS_CERT?: string | undefined;
  TLS_KEY?: string | undefined;
  MQTT_CA?: string | undefined;
}

/** A PEM file read and parsed by `parse`, or undefined with the reason in `issues`. */
function readPem<T>(
  variable: string,
  file: string,
  issues: string[],
  parse: (pem: Buffer) => T,
  what: string,
): { pem: Buffer; parsed: T } | undefined {
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (err) {
    issues.push(`${variable}: cannot read ${file}: ${(err as Error).message}`);
    return undefined;
  }
  try {
    return { pem, parsed: parse(pem) };
  } catch {
    issues.push(`${variable}: ${file} is not ${what}`);
    return undefined;
  }
}

const certificate = (variable: string, file: string, issues: string[]) =>
  readPem(variable, file, issues, (pem) => new X509Certificate(pem), 'a PEM certificate');
const privateKey = (file: string, issues: string[]) =>
  readPem<KeyObject>(
    'TLS_KEY',
    file,
    issues,
    (pem) => createPrivateKey(pem),
    'a PEM private key (an encrypted key needs its passphrase removed)',
  );

/**
 * The TLS settings (part of loadConfig), read and checked at start so a wrong file is a config
 * error, not a failure at listen or at the first handshake: TLS_CERT and TLS_KEY make HTTP speak
 * HTTPS and, with MQTT_TLS_PORT, give the embedded broker its MQTTS listener; MQTT_CA is the CA of
 * the gateways' client certificates there, or the one the server trusts at an external broker.
 */
export function readTls(e: TlsEnv): {
  https?: { cert: Buffer; key: Buffer };
  listener?: EmbeddedTlsOptions;
  ca?: Buffer;
  issues: string[];
} {
  const issues: string[] = [];
  const external = e.MQTT_URL !== undefined;
  const certAndKey = e.TLS_CERT !== undefined && e.TLS_KEY !== undefined;
  if (e.TLS_CERT !== undefined && e.TLS_KEY === undefined) issues.push('TLS_CERT: set TLS_KEY too (its key)');
  if (e.TLS_KEY !== undefined && e.TLS_CERT === undefined)
    issues.push('TLS_KEY: set TLS_CERT too (its certificate)');
  if (e.MQTT_TLS_PORT !== undefined) {
    if (external)
      issues.push(
        "MQTT_TLS_PORT: is the embedded broker's; with MQTT_URL the external broker has its own listeners",
      );
    else if (!certAndKey) issues.push('MQTT_TLS_PORT: the MQTTS listener needs TLS_CERT and TLS_KEY');
    else if (e.MQTT_TLS_PORT !== 0 && (e.MQTT_TLS_PORT === e.PORT || e.MQTT_TLS_PORT === e.MQTT_PORT))
      issues.push(`MQTT_TLS_PORT: port ${e.MQTT_TLS_PORT} is taken by PORT or MQTT_PORT`);
  }
  if (e.MQTT_CA !== undefined) {
    if (external && !/^(mqtts|wss|ssl):/.test(e.MQTT_URL ?? ''))
      issues.push(
        'MQTT_CA: is trusted for a TLS connection to the broker: MQTT_URL must be mqtts:// or wss://',
      );
    if (!external && e.MQTT_TLS_PORT === undefined)
      issues.push('MQTT_CA: client certificates are asked for on the MQTTS listener: set MQTT_TLS_PORT too');
  }
  if (issues.length > 0) return { issues };

  const ca = e.MQTT_CA === undefined ? undefined : certificate('MQTT_CA', e.MQTT_CA, issues);
  if (ca !== undefined && !ca.parsed.ca)
    issues.push(`MQTT_CA: ${e.MQTT_CA} is not a CA certificate (no basicConstraints CA:TRUE)`);
  if (e.TLS_CERT === undefined || e.TLS_KEY === undefined)
    return issues.length > 0 || ca === undefined ? { issues } : { ca: ca.pem, issues };

  const cert = certificate('TLS_CERT', e.TLS_CERT, issues);
  const key = privateKey(e.TLS_KEY, issues);
  if (cert !== undefined && key !== undefined && !cert.parsed.checkPrivateKey(key.parsed))
    issues.push(`TLS_KEY: ${e.TLS_KEY} is not the key of the certificate in TLS_CERT (${e.TLS_CERT})`);
  if (issues.length > 0 || cert === undefined || key === undefined) return { issues };
  return {
    https: { cert: cert.pem, key: key.pem },
    ...(e.MQTT_TLS_PORT === undefined
      ? {}
      : { listener: { port: e.MQTT_TLS_PORT, cert: cert.pem, key: key.pem, ca: ca?.pem ?? null } }),
    ...(ca === undefined ? {} : { ca: ca.pem }),
    issues,
  };
}
