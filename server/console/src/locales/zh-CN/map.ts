export default {
  title: '地图',
  loading: '正在加载地图…',
  loadFailed: '地图加载失败：{why}',
  noTiles: '未配置在线地图，按坐标示意各点位位置。',
  none: '您的管辖区域内没有标注坐标的点位。',
  unplaced: '另有 {n} 个点位未标注坐标：{ids}',
  moreHomes: '住户较多，地图只标出 {shown} 户（共 {total} 户）：请在“住户”中按村查看。',
  state: {
    critical: '紧急报警',
    warning: '预警',
    offline: '离线',
    handling: '处置中',
    ok: '正常',
  },
};
