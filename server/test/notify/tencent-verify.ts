/**
 * The test's own TC3-HMAC-SHA256 check of a recorded request, written from Tencent Cloud's
 * "签名方法 v3" document and not from the adapter's code:
 * https://cloud.tencent.com/document/api/213/30654
 */
import { createHash, createHmac } from 'node:crypto';
import type { Recorded } from './provider-stub.js';

/**
 * The document's worked example: DescribeInstances of CVM in Guangzhou at 1551113065, with the
 * SecretId and SecretKey the current document prints (asterisks, literally), signing
 * content-type, host and x-tc-action.
 */
export const TENCENT_DOC_EXAMPLE = {
  secretId: `AKID${'*'.repeat(32)}`,
  secretKey: '*'.repeat(32),
  request: {
    method: 'POST',
    path: '/',
    query: '',
    headers: {
      'content-type': 'application/json; charset=utf-8',
      host: 'cvm.tencentcloudapi.com',
      'x-tc-action': 'DescribeInstances',
      'x-tc-timestamp': '1551113065',
      'x-tc-version': '2017-03-12',
      'x-tc-region': 'ap-guangzhou',
      authorization: `TC3-HMAC-SHA256 Credential=AKID${'*'.repeat(32)}/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host;x-tc-action, Signature=10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f`,
    },
    body: '{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}',
  } satisfies Recorded,
  hashedPayload: '35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064',
  hashedCanonicalRequest: '7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84',
  signature: '10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f',
};

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const mac = (key: string | Buffer, s: string) => createHmac('sha256', key).update(s, 'utf8').digest();

export interface Tc3Check {
  secretId: string;
  date: string;
  service: string;
  signedHeaders: string[];
  given: string;
  expected: string;
  hashedCanonicalRequest: string;
}

/** Recomputes the signature of a recorded request from its Authorization, headers and body. */
export function checkTc3(req: Recorded, secretKey: string): Tc3Check {
  const m =
    /^TC3-HMAC-SHA256 Credential=([^/]+)\/(\d{4}-\d{2}-\d{2})\/([a-z]+)\/tc3_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
      req.headers.authorization ?? '',
    );
  if (m === null) throw new Error(`malformed Authorization: ${req.headers.authorization}`);
  const [, secretId = '', date = '', service = '', signed = '', given = ''] = m;
  const timestamp = Number(req.headers['x-tc-timestamp']);
  if (new Date(timestamp * 1000).toISOString().slice(0, 10) !== date) {
    throw new Error('the credential date is not the UTC date of X-TC-Timestamp');
  }
  const signedHeaders = signed.split(';');
  const canonicalHeaders = signedHeaders
    .map((h) => `${h}:${(req.headers[h] ?? '').trim().toLowerCase()}\n`)
    .join('');
  const canonical = `${req.method}\n/\n${req.query}\n${canonicalHeaders}\n${signed}\n${sha256(req.body)}`;
  const hashed = sha256(canonical);
  const key = mac(mac(mac(`TC3${secretKey}`, date), service), 'tc3_request');
  const expected = createHmac('sha256', key)
    .update(`TC3-HMAC-SHA256\n${timestamp}\n${date}/${service}/tc3_request\n${hashed}`)
    .digest('hex');
  return { secretId, date, service, signedHeaders, given, expected, hashedCanonicalRequest: hashed };
}
