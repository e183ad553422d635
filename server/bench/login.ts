/**
 * What a login costs (issue 11): one argon2id hash and one verification with the parameters the
 * server uses (auth/passwords.ts, OWASP's minimum), and a whole `POST /api/session` over HTTP,
 * right password and wrong, against an in-process server on loopback. Also a bearer-token request
 * beside the same request through the session cookie (what every console request pays).
 *
 *   node --import tsx server/bench/login.ts        (BENCH_ROUNDS=40)
 */
import { buildServer } from '../src/app.js';
import { hashPassword, verifyPassword } from '../src/auth/passwords.js';
import { loadConfig } from '../src/config.js';
import { insertUser } from '../src/db/users.js';
import { mintToken, quietLogger, tempDir } from '../test/helpers.js';
import { table } from './common.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};

async function timeEach(n: number, f: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await f(i);
    out.push(performance.now() - t);
  }
  return out;
}

const data = tempDir();
const app = await buildServer({
  // TRUST_PROXY: each round comes "from" its own address (X-Forwarded-For), so the per-address
  // throttle (20 failures) never answers instead of the password check being measured.
  config: loadConfig({
    PORT: '0',
    MQTT_PORT: '0',
    DATA_DIR: data.dir,
    LOG_LEVEL: 'silent',
    TRUST_PROXY: '127.0.0.1',
  }),
  logger: quietLogger(),
});
try {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  const url = `http://127.0.0.1:${addr && typeof addr === 'object' ? addr.port : 0}`;
  const password = 'a duty officer password';
  const passwordHash = await hashPassword(password);
  // One user per wrong-password round, so the throttle (5 per account) never answers instead.
  for (let i = 0; i < ROUNDS; i++)
    await insertUser(app.db, {
      username: `u${i}`,
      displayName: `u${i}`,
      role: 'viewer',
      area: null,
      passwordHash,
      now: Date.now(),
    });
  const secret = await mintToken(app.db, 'viewer');

  const hash = await timeEach(ROUNDS, () => hashPassword(password));
  const verify = await timeEach(ROUNDS, () => verifyPassword(passwordHash, password));
  let cookie = '';
  let from = 0;
  const login = async (username: string, pw: string) => {
    from += 1;
    const res = await fetch(`${url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': `10.0.${from >> 8}.${from & 255}` },
      body: JSON.stringify({ username, password: pw }),
    });
    cookie = res.headers.get('set-cookie')?.split(';')[0] ?? cookie;
    await res.arrayBuffer();
    if (res.status === 429) throw new Error('throttled: the bench would measure the lock, not the login');
    return res.status;
  };
  const right = await timeEach(ROUNDS, (i) => login(`u${i}`, password));
  const wrong = await timeEach(ROUNDS, (i) => login(`u${i}`, 'not it'));
  const unknown = await timeEach(ROUNDS, (i) => login(`nobody${i}`, 'not it'));
  const get = (headers: Record<string, string>) => async () => {
    const r = await fetch(`${url}/api/alarms?limit=1`, { headers });
    await r.arrayBuffer();
  };
  const viaToken = await timeEach(ROUNDS * 5, get({ authorization: `Bearer ${secret}` }));
  const viaCookie = await timeEach(ROUNDS * 5, get({ cookie }));

  const row = (what: string, xs: number[]) => [
    what,
    xs.length,
    pct(xs, 50).toFixed(1),
    pct(xs, 95).toFixed(1),
  ];
  console.log(
    table(
      `login cost (argon2id m=19 MiB t=2 p=1), ${ROUNDS} rounds`,
      ['what', 'n', 'p50 ms', 'p95 ms'],
      [
        row('argon2id hash', hash),
        row('argon2id verify', verify),
        row('POST /api/session, right password', right),
        row('POST /api/session, wrong password', wrong),
        row('POST /api/session, unknown user', unknown),
        row('GET /api/alarms?limit=1, bearer token', viaToken),
        row('GET /api/alarms?limit=1, session cookie', viaCookie),
      ],
    ),
  );
} finally {
  await app.close();
  data.remove();
}
