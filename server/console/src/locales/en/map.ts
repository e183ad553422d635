import type { Shape } from '../shape';
import type zh from '../zh-CN/map';

const en: Shape<typeof zh> = {
  title: 'Map',
  loading: 'Loading the map…',
  loadFailed: 'The map could not be loaded: {why}',
  noTiles: 'No map tiles are configured: the sites are drawn on a plain plan by their coordinates.',
  none: 'No site of your area has a location.',
  unplaced: '{n} more site(s) without a location: {ids}',
  moreHomes: 'Only {shown} of {total} households are drawn: see Homes, village by village.',
  state: {
    critical: 'Critical alarm',
    warning: 'Warning',
    offline: 'Offline',
    handling: 'Being handled',
    ok: 'Normal',
  },
};

export default en;
