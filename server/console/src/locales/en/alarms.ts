import type { Shape } from '../shape';
import type zh from '../zh-CN/alarms';

const en: Shape<typeof zh> = {
  title: 'Open alarms',
  count: '{n} open, {m} awaiting acknowledgement',
  empty: 'No open alarms',
  loading: 'Loading alarms…',
  severity: { critical: 'Critical', warning: 'Warning' },
  state: {
    active: 'Active',
    acknowledged: 'Acknowledged',
    cleared_unacked: 'Cleared, unacknowledged',
    cleared: 'Cleared',
  },
  headline: '{gas} alarm',
  offline: 'Device offline',
  detector: 'Detector alarm',
  device: 'Device',
  site: 'Site',
  value: 'reading {value} {unit}',
  threshold: 'set point {value} {unit}',
  raisedAt: 'raised {time}',
  ago: '{d} ago',
  duration: { s: '{n} s', m: '{n} min', h: '{n} h', d: '{n} d' },
  ackedBy: 'acknowledged by {name} at {time}',
  ack: {
    button: 'Acknowledge',
    title: 'Acknowledge alarm',
    who: 'Acknowledged by: {name}',
    note: 'What was done or found',
    placeholder: 'e.g. called the household, windows opened, everyone outside',
    submit: 'Acknowledge',
    cancel: 'Cancel',
    done: 'Alarm acknowledged',
    forbidden: 'Your role ({role}) may not acknowledge alarms: the alarm is still unacknowledged.',
    ended: 'Your login has ended: the alarm is NOT acknowledged. Log in again, then acknowledge it.',
    failed: 'Acknowledge failed ({why}): the alarm is still unacknowledged, try again.',
  },
  sound: {
    muteWarnings: 'Mute warnings 10 min',
    muted: 'Warnings muted until {time} (critical alarms still sound)',
    unmute: 'Unmute warnings',
    blocked: 'The browser is holding the alarm sound back: click anywhere on the page to allow it',
    notifyBlocked: 'Browser notifications are off: new alarms show on this page only',
  },
  notify: {
    title: '[{severity}] {headline}',
    body: '{device} ({site}) {value}, {threshold}',
  },
};

export default en;
