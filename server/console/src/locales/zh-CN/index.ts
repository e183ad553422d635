// 值班台用语：按值班人员、安全员的说法写，不逐字翻译英文。每个功能一份文件。
import alarms from './alarms';
import common from './common';
import devices from './devices';
import history from './history';
import households from './households';
import inspections from './inspections';
import maintenance from './maintenance';
import map from './map';
import reports from './reports';
import shifts from './shifts';

export default {
  ...common,
  alarms,
  devices,
  history,
  households,
  inspections,
  maintenance,
  map,
  reports,
  shifts,
};
