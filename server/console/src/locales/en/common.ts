import type { Shape } from '../shape';
import type zh from '../zh-CN/common';

/** English: the same keys as zh-CN (the type says which are missing). */
const en: Shape<typeof zh> = {
  app: { name: 'gaswatch', subtitle: 'gas safety duty console' },
  lang: { switchTo: '中文', label: 'Language' },
  roles: { viewer: 'viewer', operator: 'operator', supervisor: 'supervisor', admin: 'administrator' },
  header: {
    whoInArea: '{name} ({role}, {area})',
    who: '{name} ({role})',
    logout: 'Log out',
    logoutFailed: 'Logging out failed, you are still logged in: {why}',
  },
  login: {
    title: 'Log in to the duty console',
    username: 'Username',
    password: 'Password',
    submit: 'Log in',
    submitting: 'Logging in…',
    missing: 'Enter your username and password',
    badCredentials: 'Wrong username or password',
    tooMany: 'Too many failed logins: try again in {s} s',
    failed: 'Login failed: {why}',
    unreachable: 'The server cannot be reached; try again shortly ({why})',
    ended: 'Your login has ended; log in again.',
    loggedOut: 'Logged out.',
  },
  live: {
    stale: 'STALE: nothing from the server for {s} s, the alarms below may be out of date. Reconnecting…',
    loadFailed: 'Alarm list unavailable: {why}; trying again in 2 s',
    notListed:
      '{total} alarms are open and the board lists the newest; {n} more are not listed here: filter the alarm history by area or kind to see them.',
  },
  gases: {
    CO: 'Carbon monoxide',
    H2S: 'Hydrogen sulfide',
    O2: 'Oxygen',
    CH4: 'Methane',
    C3H8: 'Propane',
    LEL: 'Combustible gas',
    CO2: 'Carbon dioxide',
  },
  evacuation: {
    stopped: '{location}: the server stopped the work, everyone out now',
    title: 'Evacuate',
    banner: 'Evacuate: {text}',
    open: 'Open the permit and acknowledge',
    box: 'The server stopped this work: everyone out now. Find the cause; work goes on only after a new gas test passes.',
    ack: 'Acknowledged: evacuating',
    acked: 'Evacuation alert acknowledged',
    ackedBy: '{name} acknowledged the evacuation alert at {time}; every console has stopped sounding',
    waiting: 'Waiting for an operator to acknowledge the evacuation alert',
    stale: 'That evacuation is over (tested again, or the permit closed): nothing to acknowledge',
    ackFailed: 'Not acknowledged: {why}',
    expired: 'Permit expired with work going on',
    sounder: {
      label: 'Site sounder: ',
      sent: 'evacuate command sent to the gateway, waiting for its answer',
      send_failed: 'not sent, nothing sounds at the site: warn the people there another way now ({message})',
      sounding: 'sounding',
      refused: 'the gateway refused: {message}; warn the people there another way',
    },
  },
  nav: {
    alarms: 'Alarms',
    devices: 'Devices',
    households: 'Homes',
    map: 'Map',
    history: 'History',
    permits: 'Permits',
    shifts: 'Handover',
    reports: 'Ledgers',
  },
};

export default en;
