// 周报页：按乡镇向县里报送防范工作周报的说法写，不逐字翻译英文。
export default {
  title: '防范工作周报',
  intro: '各乡镇的周报每周按时自动生成（统计上一周），也可以随时生成。下载的表格和 PDF 可以直接报送。',
  make: {
    title: '生成周报',
    area: '乡镇',
    week: '统计周（选该周任意一天）',
    weekHint: '不选则为上一周',
    submit: '立即生成',
    done: '{area} {start} 至 {end} 的周报已生成',
    failed: '生成失败：{why}',
  },
  list: '已生成的周报',
  none: '还没有周报。每周按时自动生成，也可以在上面立即生成。',
  loadFailed: '周报列表加载失败：{why}',
  total: '共 {n} 份',
  more: '加载更多',
  columns: { area: '乡镇', week: '统计周期', made: '生成时间', by: '生成方式', files: '下载' },
  week: '{start} 至 {end}',
  schedule: '定时生成',
  xlsx: '表格',
  pdf: 'PDF',
};
