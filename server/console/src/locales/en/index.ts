import alarms from './alarms';
import common from './common';
import map from './map';

export default { ...common, alarms, map };
