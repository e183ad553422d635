import alarms from './alarms';
import common from './common';

export default { ...common, alarms };
