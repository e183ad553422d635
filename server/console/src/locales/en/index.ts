import alarms from './alarms';
import common from './common';
import devices from './devices';

export default { ...common, alarms, devices };
