import type { Shape } from '../shape';
import type zh from '../zh-CN/history';

const en: Shape<typeof zh> = {
  title: 'Alarm history',
  filters: 'Filters',
  range: 'Raised',
  to: 'to',
  start: 'From',
  end: 'To',
  area: 'Area',
  anyArea: 'All areas',
  site: 'Site',
  device: 'Device',
  kind: 'Kind',
  gas: 'Gas',
  severity: 'Severity',
  outcome: 'Outcome',
  state: 'State',
  any: 'Any',
  unresolved: 'Not resolved',
  search: 'Search',
  reset: 'Reset',
  total: '{n} alarms',
  more: 'Load more ({shown} of {total} shown)',
  empty: 'No alarm matches.',
  loading: 'Searching…',
  failed: 'The search failed: {why}',
  exportXlsx: 'Export Excel',
  exportCsv: 'Export CSV',
  kinds: {
    gas: 'Gas level',
    detector: 'Detector alarm',
    offline: 'Offline',
    fault: 'Fault',
    maintenance: 'Maintenance',
  },
  col: {
    raisedAt: 'Raised',
    what: 'Alarm',
    where: 'Device / site',
    severity: 'Severity',
    state: 'State',
    ack: 'Acknowledged',
    resolution: 'Resolved',
  },
};

export default en;
