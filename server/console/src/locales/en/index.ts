import alarms from './alarms';
import common from './common';
import devices from './devices';
import map from './map';
import shifts from './shifts';

export default { ...common, alarms, devices, map, shifts };
