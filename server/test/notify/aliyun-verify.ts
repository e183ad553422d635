/**
 * The test's own ACS3-HMAC-SHA256 check of a recorded request, written from Alibaba's V3
 * signature document and not from the adapter's code, so one mistake cannot hide in both:
 * https://help.aliyun.com/zh/sdk/product-overview/v3-request-structure-and-signature
 */
import { createHash, createHmac } from 'node:crypto';
import type { Recorded } from './provider-stub.js';

/** The document's published example values (its "固定参数示例"): key, secret, date and nonce. */
export const ALIYUN_DOC_EXAMPLE = {
  accessKeyId: 'YourAccessKeyId',
  accessKeySecret: 'YourAccessKeySecret',
  request: {
    method: 'POST',
    path: '/',
    query: 'ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai',
    headers: {
      host: 'ecs.cn-shanghai.aliyuncs.com',
      'x-acs-action': 'RunInstances',
      'x-acs-version': '2014-05-26',
      'x-acs-date': '2023-10-26T10:22:32Z',
      'x-acs-signature-nonce': '3156853299f313e23d1673dc12e1703d',
      'x-acs-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    },
    body: '',
  } satisfies Recorded,
  hashedCanonicalRequest: '7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259',
  signature: '06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0',
};

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** RFC 3986 byte by byte: only A–Z a–z 0–9 - _ . ~ stay as they are. */
function rfc3986(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export interface Acs3Check {
  credential: string;
  signedHeaders: string[];
  /** The signature as the request carries it. */
  given: string;
  /** The signature this check computes from the request and the secret. */
  expected: string;
  hashedCanonicalRequest: string;
}

/**
 * Recomputes the signature of a recorded request. The Authorization header is read for the
 * signed header names; every x-acs-* header the request has must be among them.
 */
export function checkAcs3(req: Recorded, secret: string): Acs3Check {
  const m = /^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})$/.exec(
    req.headers.authorization ?? '',
  );
  const signedHeaders =
    m?.[2]?.split(';') ?? ['host', ...Object.keys(req.headers).filter((h) => h.startsWith('x-acs-'))].sort();
  for (const h of Object.keys(req.headers)) {
    if (h.startsWith('x-acs-') && !signedHeaders.includes(h)) throw new Error(`${h} is not signed`);
  }
  const query = req.query
    .split('&')
    .filter((p) => p !== '')
    .map((p) => p.split('=').map((x) => rfc3986(decodeURIComponent(x ?? ''))) as [string, string])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const headers = signedHeaders.map((h) => `${h}:${(req.headers[h] ?? '').trim()}\n`).join('');
  const canonical = `${req.method}\n${req.path}\n${query}\n${headers}\n${signedHeaders.join(';')}\n${sha256(req.body)}`;
  const hashed = sha256(canonical);
  const expected = createHmac('sha256', secret).update(`ACS3-HMAC-SHA256\n${hashed}`).digest('hex');
  return {
    credential: m?.[1] ?? '',
    signedHeaders,
    given: m?.[3] ?? '',
    expected,
    hashedCanonicalRequest: hashed,
  };
}
