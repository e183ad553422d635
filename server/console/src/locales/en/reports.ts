import type { Shape } from '../shape';
import type zh from '../zh-CN/reports';

const en: Shape<typeof zh> = {
  title: 'Weekly ledgers',
  intro:
    "Each township's ledger of the last week is made on a schedule every week; you can also make one now. The XLSX and PDF are ready to send on as they are.",
  make: {
    title: 'Make a ledger',
    area: 'Township',
    week: 'Week (any day of it)',
    weekHint: 'Empty: the last week',
    submit: 'Make now',
    done: 'Ledger of {area}, {start} to {end}, made',
    failed: 'Could not make it: {why}',
  },
  list: 'Ledgers made',
  none: 'No ledgers yet. They are made every week on schedule, or above, now.',
  loadFailed: 'Ledger list unavailable: {why}',
  total: '{n} ledgers',
  more: 'More',
  columns: { area: 'Township', week: 'Week', made: 'Made', by: 'By', files: 'Download' },
  week: '{start} to {end}',
  schedule: 'schedule',
  xlsx: 'XLSX',
  pdf: 'PDF',
};

export default en;
