/**
 * The one-box demo's township (issue 13): a county, a township, two villages and a dozen
 * households as a township office registers them, the simulated detectors installed in the first
 * homes, so a newcomer sees the registry, the household on an alarm and the vulnerable first.
 * Made through the server's own API as the console's admin; a second start finds them and skips.
 */
import type { ConsoleLogin } from './one-box-logins.js';

const AREAS = [
  { id: 'liucheng', name: '柳城县', kind: 'county', parent: null },
  { id: 'dapu', name: '大埔镇', kind: 'township', parent: 'liucheng' },
  { id: 'liujiang', name: '柳江村', kind: 'village', parent: 'dapu' },
  { id: 'hexi', name: '河西村', kind: 'village', parent: 'dapu' },
] as const;

type Flag = 'elderly_alone' | 'elderly' | 'bedridden' | 'infant' | 'left_behind_child' | 'migrant';
type Heating =
  | 'coal_stove'
  | 'charcoal'
  | 'kang'
  | 'gas_water_heater_flueless'
  | 'gas_water_heater_flued'
  | 'gas_cooker';

/** [id, village, address, occupants, flags, heating, first contact, their phone]. */
const HOMES: ReadonlyArray<readonly [string, string, string, number, Flag[], Heating[], string, string]> = [
  [
    'liujiang-3-12',
    'liujiang',
    '柳江村 3 组 12 号',
    1,
    ['elderly_alone'],
    ['charcoal', 'gas_water_heater_flueless'],
    '王秀英',
    '13800000001',
  ],
  ['liujiang-3-15', 'liujiang', '柳江村 3 组 15 号', 4, ['infant'], ['coal_stove'], '李建华', '13800000002'],
  [
    'liujiang-4-02',
    'liujiang',
    '柳江村 4 组 2 号',
    2,
    ['elderly'],
    ['kang', 'coal_stove'],
    '张桂兰',
    '13800000003',
  ],
  [
    'liujiang-4-08',
    'liujiang',
    '柳江村 4 组 8 号',
    1,
    ['elderly_alone', 'bedridden'],
    ['charcoal'],
    '刘德明',
    '13800000004',
  ],
  [
    'liujiang-5-21',
    'liujiang',
    '柳江村 5 组 21 号',
    3,
    ['left_behind_child'],
    ['gas_water_heater_flueless'],
    '陈小梅',
    '13800000005',
  ],
  [
    'liujiang-5-30',
    'liujiang',
    '柳江村 5 组 30 号',
    5,
    [],
    ['gas_cooker', 'gas_water_heater_flued'],
    '黄志强',
    '13800000006',
  ],
  ['hexi-1-02', 'hexi', '河西村 1 组 2 号', 2, ['elderly'], ['coal_stove'], '赵淑芬', '13800000007'],
  [
    'hexi-1-09',
    'hexi',
    '河西村 1 组 9 号',
    6,
    ['migrant'],
    ['gas_water_heater_flueless', 'gas_cooker'],
    '周强',
    '13800000008',
  ],
  ['hexi-2-14', 'hexi', '河西村 2 组 14 号', 1, ['elderly_alone'], ['kang'], '吴桂香', '13800000009'],
  ['hexi-2-17', 'hexi', '河西村 2 组 17 号', 3, ['infant'], ['charcoal'], '郑丽', '13800000010'],
  ['hexi-3-05', 'hexi', '河西村 3 组 5 号', 4, [], ['coal_stove'], '孙国庆', '13800000011'],
  [
    'hexi-3-11',
    'hexi',
    '河西村 3 组 11 号',
    2,
    ['elderly'],
    ['gas_water_heater_flued'],
    '马秀兰',
    '13800000012',
  ],
];

/** Where in the home a detector is, from the simulator's device name (bathroom-co → 浴室). */
const roomOf = (device: string) =>
  /bath/.test(device)
    ? '浴室'
    : /kitchen/.test(device)
      ? '厨房'
      : /basement/.test(device)
        ? '地下室'
        : '卧室';

/** Logs in as the console's admin and answers a fetch that carries the session and CSRF token. */
async function session(url: string, login: ConsoleLogin) {
  const r = await fetch(`${url}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: login.username, password: login.password }),
  });
  if (r.status !== 200) throw new Error(`demo township: logging in as ${login.username}: HTTP ${r.status}`);
  const { csrfToken } = (await r.json()) as { csrfToken: string };
  const cookie = (r.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  return (path: string, body: unknown) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': csrfToken, 'content-type': 'application/json', origin: url },
      body: JSON.stringify(body),
    });
}

/**
 * Registers the demo township; `devices` (the simulated detectors) are installed in the first
 * homes, one each. Answers how many households it registered (0 on a second start).
 */
export async function seedDemoTownship(
  url: string,
  login: ConsoleLogin,
  devices: readonly string[],
): Promise<number> {
  const post = await session(url, login);
  for (const a of AREAS) {
    const r = await post('/api/areas', a);
    if (r.status !== 201 && r.status !== 409)
      throw new Error(`demo township: area ${a.id}: HTTP ${r.status} ${await r.text()}`);
  }
  let made = 0;
  for (const [i, [id, area, address, count, flags, heating, name, phone]] of HOMES.entries()) {
    const device = devices[i];
    const r = await post('/api/households', {
      id,
      area,
      address,
      occupants: { count, flags },
      heating,
      contacts: [
        { name, relation: 'occupant', phone },
        { name: '李国强', relation: 'grid_worker', phone: '13900000001' },
      ],
      detectors:
        device === undefined
          ? []
          : [
              {
                device,
                location: roomOf(device),
                installedOn: '2026-11-20',
                expiresOn: '2031-11-20',
              },
            ],
    });
    if (r.status === 201) made++;
    else if (r.status !== 409)
      throw new Error(`demo township: household ${id}: HTTP ${r.status} ${await r.text()}`);
  }
  return made;
}
