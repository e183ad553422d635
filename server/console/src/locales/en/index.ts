import alarms from './alarms';
import common from './common';
import devices from './devices';
import map from './map';

export default { ...common, alarms, devices, map };
