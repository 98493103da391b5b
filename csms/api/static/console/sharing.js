/*
 * Sharing (共享, #/sharing and #/sharing/<unit id>): internal piles of owner units (agencies,
 * enterprises, schools, ...) opened to the public on schedules (README "Internal piles shared
 * with the public"). The page lists the units and creates one; a chosen unit shows its fields,
 * its members (id tokens and token groups who may always charge), its stations and their
 * access mode (private, shared, public) with whether the public may charge now, its opening
 * schedules drawn as a week calendar (Mon..Sun x 48 half hours, in the schedule's time zone)
 * with their dated exceptions, its monthly report and the starts the sharing rules refused
 * (both read-only, as the API computes them). Operators draw a new schedule by clicking or
 * dragging over the week's half hours (like the tariff editor), see the JSON before it is
 * sent, end a schedule on a day or delete it after a confirm step. Below: the holiday calendar
 * (statutory holidays, open all day on shared piles, and adjusted working days, 调休) per month
 * of a year; whole-network operators add and remove entries (each change replaces the calendar
 * with PUT /api/v1/calendar). Scopes as the API: a unit's own account manages its unit, a
 * county account reads its counties' units and sets its stations' access. The API checks
 * everything again; its refusals are shown explained.
 */

import { call, resultLine, writer } from './api.js';
import { h, table } from './dom.js';
import { addWords, t, when } from './i18n.js';

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const CELLS = 48; // half hours of a day
const KINDS = ['government', 'enterprise', 'school', 'hospital', 'public_institution', 'other'];
const MODES = ['private', 'shared', 'public'];
const UNIT_ID = /^[A-Za-z0-9._-]{1,64}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const SPAN = /^\s*(\d{2}:\d{2})\s*[-–~]\s*(\d{2}:\d{2})\s*$/;
const drag = { on: false }; // a mouse button held down over the week's cells
document.addEventListener('mouseup', () => { drag.on = false; });
let notice = null; // a message to show after the page is drawn again (a new unit opened)
let calendarYear = null; // the holiday calendar's year shown, kept while the page is drawn again

addWords({
  zh: {
    nav_sharing: '共享',
    sharing_title: '共享',
    sh_intro: '产权单位（机关、企事业单位等）的内部充电桩按时段向社会开放：单位成员随时可充，其他人只在开放时段内可充。',
    sh_units: '产权单位',
    sh_no_units: '还没有产权单位。',
    sh_col_unit: '单位编号',
    sh_col_name: '名称',
    sh_col_kind: '类型',
    sh_col_county: '区县',
    sh_col_close: '开放时段结束时',
    sh_col_opened: '开放日期',
    sh_kind_government: '机关',
    sh_kind_enterprise: '企业',
    sh_kind_school: '学校',
    sh_kind_hospital: '医院',
    sh_kind_public_institution: '事业单位',
    sh_kind_other: '其他',
    sh_close_finish: '进行中的公众充电继续至结束',
    sh_close_stop: '{minutes} 分钟后停止公众充电',
    sh_new_unit: '新建产权单位',
    sh_unit_id: '单位编号（字母、数字、. _ -）',
    sh_name: '名称',
    sh_kind: '类型',
    sh_county: '区县（可选）',
    sh_close_policy: '开放时段结束时',
    sh_policy_finish: '让公众充电继续至结束',
    sh_policy_stop: '宽限后停止公众充电',
    sh_grace: '宽限（分钟）',
    sh_close_message: '结束提示（可选，2.0.1 充电桩显示）',
    sh_opened_on: '对外开放日期（可选）',
    sh_create_unit: '新建单位',
    sh_unit_created: '产权单位 {id} 已新建；下面添加成员、充电桩和开放时段。',
    sh_unit_saved: '产权单位 {id} 已保存。',
    sh_viewer: '查看者账号只能查看共享设置；如需修改请联系运营人员或管理员。',
    sh_county_note: '区县账号可查看本区县的产权单位，并设置本区县充电桩的开放方式；单位信息、成员、开放时段和节假日日历由单位自己的账号或全网运营人员修改。',
    sh_unit_title: '产权单位 {name}',
    sh_back: '返回单位列表',
    sh_fields: '基本信息',
    sh_save_unit: '保存单位信息',
    sh_members: '成员（随时可充）',
    sh_members_help: '成员是卡片或整个卡片分组；非公共充电桩会收到成员的本地授权列表。',
    sh_no_members: '还没有成员：非公共充电桩只有开放时段内的公众可以充电。',
    sh_member_token: '卡片',
    sh_member_group: '卡片分组',
    sh_member_kind: '成员类型',
    sh_member_value: '卡号或分组',
    sh_add_member: '添加成员',
    sh_remove: '移除',
    sh_members_saved: '成员已更新（{n} 个）。',
    sh_stations: '充电桩',
    sh_stations_help: '私有：只有成员可充；共享：成员随时可充，公众在开放时段内可充；公共：所有人可充（仍记在本单位名下）。',
    sh_no_stations: '本单位还没有充电桩。',
    sh_col_station: '充电桩',
    sh_col_mode: '开放方式',
    sh_col_connected: '连接',
    sh_col_public_now: '公众现在可充',
    sh_col_next_change: '下次变化',
    sh_mode_private: '私有',
    sh_mode_shared: '共享',
    sh_mode_public: '公共',
    sh_yes: '是',
    sh_no: '否',
    sh_station_id: '充电桩编号',
    sh_add_station: '加入本单位',
    sh_access_saved: '充电桩 {id} 现为“{mode}”，属于 {unit}。',
    sh_set_mode: '保存',
    sh_schedules: '开放时段',
    sh_schedules_help: '周历中绿色为向公众开放的时段（按时段的时区）；每个时段属于它开始的那一天，跨午夜的时段延续到次日早上。法定节假日默认全天开放。',
    sh_no_schedules: '还没有开放时段：共享桩目前只对成员开放（节假日除外）。',
    sh_schedule_title: '时段 #{id}',
    sh_whole_unit: '全单位',
    sh_for_station: '仅充电桩 {id}',
    sh_effective: '生效 {from} 至 {to}（{zone}）',
    sh_open_end: '长期',
    sh_holidays_open: '法定节假日全天开放',
    sh_holidays_closed: '法定节假日按周历',
    sh_workday_pattern: '调休上班日按{day}',
    sh_windows: '时段：{list}',
    sh_no_windows: '时段：无（只有节假日和例外日期开放）',
    sh_created_by: '由 {who} 于 {at} 创建',
    sh_exceptions: '例外日期',
    sh_exc_date: '日期',
    sh_exc_kind: '当天',
    sh_exc_windows: '当天时段',
    sh_exc_note: '备注',
    sh_exc_open: '全天开放',
    sh_exc_closed: '全天不开放',
    sh_exc_own: '按当天时段',
    sh_end_on: '最后生效日',
    sh_end: '结束时段',
    sh_ended: '时段 #{id} 的最后生效日为 {day}。',
    sh_delete: '删除时段',
    sh_delete_confirm: '删除时段 #{id}？其开放记录将不再保留；已生效过的时段建议改为“结束”。',
    sh_deleted: '时段 #{id} 已删除。',
    sh_need_end_day: '请先选择最后生效日。',
    sh_copy: '复制到新时段',
    sh_copied: '时段 #{id} 已复制到下面的编辑器；修改后保存为新时段。',
    sh_new_schedule: '新建开放时段',
    sh_grid_help: '选“开放”或“不开放”，再点击或拖过周历中的半小时格子。',
    sh_brush_open: '开放',
    sh_brush_closed: '不开放',
    sh_clear: '全部清除',
    sh_evenings: '示例：工作日晚间和周末',
    sh_from: '生效日期',
    sh_until: '最后生效日（可选）',
    sh_station_choice: '适用于',
    sh_add_exception: '添加例外日期',
    sh_exc_windows_hint: '如 08:00-12:00, 14:00-18:00',
    sh_json: '将要发送的 JSON',
    sh_create_schedule: '保存开放时段',
    sh_schedule_created: '开放时段 #{id} 已保存：{list}',
    sh_fix: '请先修正：{list}',
    sh_f_id: '单位编号须为 1-64 个字母、数字或 . _ -',
    sh_f_name: '请填写名称',
    sh_f_grace: '宽限须为 0-1440 分钟',
    sh_f_from: '请选择生效日期',
    sh_f_until: '最后生效日不能早于生效日期',
    sh_f_exc_date: '例外日期须填写日期',
    sh_f_exc_twice: '例外日期 {day} 填了两次',
    sh_f_exc_windows: '例外日期 {day} 的时段须写成 08:00-12:00 这样，用逗号分隔',
    sh_f_member: '请填写卡号或分组',
    sh_f_station: '请填写充电桩编号',
    sh_report: '月度报告',
    sh_report_month: '月份',
    sh_report_show: '查看报告',
    sh_report_money: '{n} 笔，{kwh} kWh，{revenue} 元',
    sh_report_public: '公众充电（已结算）',
    sh_report_members: '成员充电（已结算）',
    sh_report_sessions: '充电次数',
    sh_report_sessions_value: '公众 {public} 次，成员 {member} 次',
    sh_report_utilization: '本月时间利用率',
    sh_report_before: '开放前 30 天时间利用率',
    sh_report_no_opening: '未填写开放日期',
    sh_report_hours: '对公众开放小时数',
    sh_report_refused: '被拒绝的启动',
    sh_f_month: '请选择月份',
    sh_decisions: '共享规则拒绝的启动（最近 20 条）',
    sh_no_decisions: '没有被共享规则拒绝的启动。',
    sh_col_at: '时间',
    sh_col_token: '卡片',
    sh_col_context: '环节',
    sh_col_reason: '原因',
    sh_calendar: '节假日日历',
    sh_calendar_help: '法定节假日（共享桩默认全天开放，电价按节假日）和调休上班日（按工作日时段）。明年的国务院通知发布后在这里补充。',
    sh_calendar_covers: '{name}：覆盖 {from}–{to} 年',
    sh_calendar_empty: '{name}：没有任何日期',
    sh_year: '年份',
    sh_month: '{month} 月',
    sh_nothing_this_month: '无',
    sh_holiday_span: '{name}：{from} 至 {to}（{n} 天）',
    sh_workday: '调休上班：{day}',
    sh_holiday_name: '节日名称',
    sh_holiday_from: '第一天',
    sh_holiday_to: '最后一天',
    sh_add_holiday: '添加节假日',
    sh_workday_day: '调休上班日（周六或周日）',
    sh_add_workday: '添加调休上班日',
    sh_calendar_saved: '节假日日历已保存（{holidays} 段节假日，{workdays} 个调休上班日）。',
    sh_f_holiday: '请填写节日名称、第一天和最后一天',
    sh_f_workday: '请选择调休上班日',
    sh_remove_confirm: '确认移除',
    sh_sep: '；',
    sh_day_mon: '周一', sh_day_tue: '周二', sh_day_wed: '周三', sh_day_thu: '周四',
    sh_day_fri: '周五', sh_day_sat: '周六', sh_day_sun: '周日',
  },
  en: {
    nav_sharing: 'Sharing',
    sharing_title: 'Sharing',
    sh_intro: 'Owner units (agencies, enterprises, ...) open their internal piles to the public on schedules: members charge at any time, everyone else inside the opening windows.',
    sh_units: 'Owner units',
    sh_no_units: 'No owner units yet.',
    sh_col_unit: 'Unit id',
    sh_col_name: 'Name',
    sh_col_kind: 'Kind',
    sh_col_county: 'County',
    sh_col_close: 'When a window closes',
    sh_col_opened: 'Opened on',
    sh_kind_government: 'Government',
    sh_kind_enterprise: 'Enterprise',
    sh_kind_school: 'School',
    sh_kind_hospital: 'Hospital',
    sh_kind_public_institution: 'Public institution',
    sh_kind_other: 'Other',
    sh_close_finish: 'public sessions finish',
    sh_close_stop: 'public sessions stop after {minutes} minutes',
    sh_new_unit: 'New owner unit',
    sh_unit_id: 'Unit id (letters, digits, . _ -)',
    sh_name: 'Name',
    sh_kind: 'Kind',
    sh_county: 'County (optional)',
    sh_close_policy: 'When a window closes',
    sh_policy_finish: 'let public sessions finish',
    sh_policy_stop: 'stop public sessions after the grace',
    sh_grace: 'Grace (minutes)',
    sh_close_message: 'Closing message (optional, shown by 2.0.1 stations)',
    sh_opened_on: 'Opened to the public on (optional)',
    sh_create_unit: 'Create unit',
    sh_unit_created: 'Owner unit {id} created; add its members, stations and opening schedules below.',
    sh_unit_saved: 'Owner unit {id} saved.',
    sh_viewer: 'A viewer account reads the sharing settings only; ask an operator or administrator to change them.',
    sh_county_note: 'A county account reads the owner units of its counties and sets the access of its own stations; a unit\'s details, members and opening schedules, and the holiday calendar, are changed by the unit\'s own account or a whole-network operator.',
    sh_unit_title: 'Owner unit {name}',
    sh_back: 'Back to the units',
    sh_fields: 'Details',
    sh_save_unit: 'Save unit details',
    sh_members: 'Members (may always charge)',
    sh_members_help: 'Members are id tokens or whole token groups; non-public stations get the members as their local authorization list.',
    sh_no_members: 'No members yet: only the public, inside opening windows, can charge at non-public stations.',
    sh_member_token: 'Id token',
    sh_member_group: 'Token group',
    sh_member_kind: 'Member kind',
    sh_member_value: 'Token or group',
    sh_add_member: 'Add member',
    sh_remove: 'Remove',
    sh_members_saved: 'Members updated ({n}).',
    sh_stations: 'Stations',
    sh_stations_help: 'Private: members only; shared: members at any time, the public inside opening windows; public: everyone (still owned by this unit).',
    sh_no_stations: 'This unit has no stations yet.',
    sh_col_station: 'Station',
    sh_col_mode: 'Access',
    sh_col_connected: 'Connection',
    sh_col_public_now: 'Public may charge now',
    sh_col_next_change: 'Next change',
    sh_mode_private: 'Private',
    sh_mode_shared: 'Shared',
    sh_mode_public: 'Public',
    sh_yes: 'yes',
    sh_no: 'no',
    sh_station_id: 'Station id',
    sh_add_station: 'Add to this unit',
    sh_access_saved: 'Station {id} is now "{mode}", owned by {unit}.',
    sh_set_mode: 'Save',
    sh_schedules: 'Opening schedules',
    sh_schedules_help: 'Green in the week calendar is open to the public (in the schedule\'s time zone); a window belongs to the day it starts, and one past midnight runs into the next morning. Statutory holidays are open all day by default.',
    sh_no_schedules: 'No opening schedules yet: shared stations are open to members only (holidays aside).',
    sh_schedule_title: 'Schedule #{id}',
    sh_whole_unit: 'the whole unit',
    sh_for_station: 'station {id} only',
    sh_effective: 'in force {from} to {to} ({zone})',
    sh_open_end: 'open-ended',
    sh_holidays_open: 'statutory holidays open all day',
    sh_holidays_closed: 'statutory holidays follow the week',
    sh_workday_pattern: 'adjusted working days follow {day}',
    sh_windows: 'Windows: {list}',
    sh_no_windows: 'Windows: none (open on holidays and exceptions only)',
    sh_created_by: 'created by {who} at {at}',
    sh_exceptions: 'Exceptions',
    sh_exc_date: 'Date',
    sh_exc_kind: 'That day',
    sh_exc_windows: 'Its windows',
    sh_exc_note: 'Note',
    sh_exc_open: 'open all day',
    sh_exc_closed: 'closed all day',
    sh_exc_own: 'its own windows',
    sh_end_on: 'Last day',
    sh_end: 'End schedule',
    sh_ended: 'Schedule #{id} now ends on {day}.',
    sh_delete: 'Delete schedule',
    sh_delete_confirm: 'Delete schedule #{id}? Its record goes too; for a schedule that was in force, ending it is better.',
    sh_deleted: 'Schedule #{id} deleted.',
    sh_need_end_day: 'Choose the last day first.',
    sh_copy: 'Copy into a new schedule',
    sh_copied: 'Schedule #{id} copied into the editor below; change it and save it as a new schedule.',
    sh_new_schedule: 'New opening schedule',
    sh_grid_help: 'Pick "open" or "closed", then click or drag over the half hours of the week.',
    sh_brush_open: 'Open',
    sh_brush_closed: 'Closed',
    sh_clear: 'Clear all',
    sh_evenings: 'Example: weekday evenings and weekends',
    sh_from: 'In force from',
    sh_until: 'Last day (optional)',
    sh_station_choice: 'Applies to',
    sh_add_exception: 'Add an exception date',
    sh_exc_windows_hint: 'e.g. 08:00-12:00, 14:00-18:00',
    sh_json: 'The JSON to be sent',
    sh_create_schedule: 'Save schedule',
    sh_schedule_created: 'Opening schedule #{id} saved: {list}',
    sh_fix: 'Correct this first: {list}',
    sh_f_id: 'the unit id must be 1-64 letters, digits or . _ -',
    sh_f_name: 'enter a name',
    sh_f_grace: 'the grace must be 0-1440 minutes',
    sh_f_from: 'choose the first day in force',
    sh_f_until: 'the last day is before the first',
    sh_f_exc_date: 'an exception needs its date',
    sh_f_exc_twice: 'exception {day} is given twice',
    sh_f_exc_windows: 'write the windows of exception {day} like 08:00-12:00, separated by commas',
    sh_f_member: 'enter the token or group',
    sh_f_station: 'enter the station id',
    sh_report: 'Monthly report',
    sh_report_month: 'Month',
    sh_report_show: 'Show report',
    sh_report_money: '{n} billed, {kwh} kWh, {revenue} CNY',
    sh_report_public: 'Public charging (billed)',
    sh_report_members: 'Member charging (billed)',
    sh_report_sessions: 'Sessions',
    sh_report_sessions_value: 'public {public}, members {member}',
    sh_report_utilization: 'Time utilization this month',
    sh_report_before: 'Time utilization in the 30 days before opening',
    sh_report_no_opening: 'no opening date given',
    sh_report_hours: 'Hours open to the public',
    sh_report_refused: 'Refused starts',
    sh_f_month: 'choose the month',
    sh_decisions: 'Starts the sharing rules refused (latest 20)',
    sh_no_decisions: 'No starts refused by the sharing rules.',
    sh_col_at: 'Time',
    sh_col_token: 'Id token',
    sh_col_context: 'Where',
    sh_col_reason: 'Reason',
    sh_calendar: 'Holiday calendar',
    sh_calendar_help: 'Statutory holidays (shared piles open all day; tariffs price them as holidays) and adjusted working days (they follow a working day\'s windows). Add next year\'s when the State Council notice is out.',
    sh_calendar_covers: '{name}: covers {from}–{to}',
    sh_calendar_empty: '{name}: no dates at all',
    sh_year: 'Year',
    sh_month: 'Month {month}',
    sh_nothing_this_month: 'none',
    sh_holiday_span: '{name}: {from} to {to} ({n} days)',
    sh_workday: 'Adjusted working day: {day}',
    sh_holiday_name: 'Holiday name',
    sh_holiday_from: 'First day',
    sh_holiday_to: 'Last day',
    sh_add_holiday: 'Add holiday',
    sh_workday_day: 'Adjusted working day (a Saturday or Sunday)',
    sh_add_workday: 'Add adjusted working day',
    sh_calendar_saved: 'Holiday calendar saved ({holidays} holidays, {workdays} adjusted working days).',
    sh_f_holiday: 'enter the holiday name, its first and its last day',
    sh_f_workday: 'choose the adjusted working day',
    sh_remove_confirm: 'Yes, remove',
    sh_sep: '; ',
    sh_day_mon: 'Mon', sh_day_tue: 'Tue', sh_day_wed: 'Wed', sh_day_thu: 'Thu',
    sh_day_fri: 'Fri', sh_day_sat: 'Sat', sh_day_sun: 'Sun',
  },
});

// --- time helpers -------------------------------------------------------------------------

const clock = (cell) => `${String(Math.floor(cell / 2)).padStart(2, '0')}:${cell % 2 ? '30' : '00'}`;
const minutes = (hhmm) => {
  const [hours, mins] = hhmm.split(':').map(Number);
  return hours * 60 + mins;
};
/** A window's length in minutes: end <= start crosses midnight (as the API reads it). */
const length = (start, end) => (end > start ? end - start : 1440 - start + end);
const dayNames = (days) => days.map((d) => t(`sh_day_${d}`)).join(t('list_separator'));
const windowText = (w) => `${dayNames(w.days)} ${w.start}–${w.end}`;
const daysBetween = (from, to) => Math.round((Date.parse(to) - Date.parse(from)) / 86400000) + 1;

/** Minutes open in each half hour of the week (7 x 48, 0..30) under these weekly windows. */
function coverage(windows) {
  const out = DAYS.map(() => new Array(CELLS).fill(0));
  for (const w of windows) {
    const start = minutes(w.start);
    const stop = start + length(start, minutes(w.end));
    for (const day of w.days) {
      const d = DAYS.indexOf(day);
      for (let k = Math.floor(start / 30); k * 30 < stop; k += 1) {
        const covered = Math.min(stop, k * 30 + 30) - Math.max(start, k * 30);
        const cells = out[(d + Math.floor(k / CELLS)) % 7];
        cells[k % CELLS] = Math.min(30, cells[k % CELLS] + covered);
      }
    }
  }
  return out;
}

/**
 * The weekly windows of a drawn week: each day's runs of open half hours; a run up to 24:00
 * followed by a run from 00:00 the next day is one window past midnight (as the README writes
 * "18:00-08:00"); days with the same runs share a window.
 */
function windowsOf(open) {
  const runs = open.map((cells) => {
    const out = [];
    let start = null;
    cells.forEach((on, i) => {
      if (on && start === null) start = i;
      if (start !== null && (!on || i === CELLS - 1)) {
        out.push([start, on ? i + 1 : i]);
        start = null;
      }
    });
    return out;
  });
  for (let d = 0; d < 7; d += 1) {
    const last = runs[d][runs[d].length - 1];
    const next = runs[(d + 1) % 7];
    const first = next[0];
    if (last && first && last[1] === CELLS && last[0] > 0 && first[0] === 0 && first[1] < last[0]
        && !first.merged) {
      last[1] = CELLS + first[1];
      last.merged = true;
      next.shift();
    }
  }
  const byTimes = new Map();
  runs.forEach((dayRuns, d) => {
    for (const [start, end] of dayRuns) {
      const key = `${clock(start)}-${end === CELLS ? '24:00' : clock(end % CELLS)}`;
      if (!byTimes.has(key)) byTimes.set(key, { days: [], start: clock(start), end: key.slice(6), order: [d, start] });
      byTimes.get(key).days.push(DAYS[d]);
    }
  });
  return [...byTimes.values()]
    .sort((a, b) => a.order[0] - b.order[0] || a.order[1] - b.order[1])
    .map(({ days, start, end }) => ({ days, start, end }));
}

/** The week calendar: 7 columns, 48 half-hour rows; `cell(d, i)` makes each slot. */
function week(testid, cell, editable = false, label = null) {
  const parts = [h('span', { class: 'head' }), ...DAYS.map((d) => h('span', { class: 'head' }, t(`sh_day_${d}`)))];
  for (let i = 0; i < CELLS; i += 1) {
    parts.push(h('span', { class: 'hour' }, i % 4 === 0 ? clock(i) : ''));
    for (let d = 0; d < 7; d += 1) parts.push(cell(d, i));
  }
  return h('div', { class: `week${editable ? ' editable' : ''}`, testid, role: editable ? null : 'img',
                    'aria-label': label }, parts);
}

/** A schedule's weekly windows drawn read-only ('part': a half hour partly open). */
function drawnWeek(testid, windows) {
  const open = coverage(windows);
  return week(testid, (d, i) => h('span', {
    class: `slot${i % 2 === 0 ? ' hour-start' : ''}`,
    testid: `${testid}-${DAYS[d]}-${i}`,
    title: `${t(`sh_day_${DAYS[d]}`)} ${clock(i)}`,
    dataset: { open: open[d][i] === 30 ? 'full' : open[d][i] > 0 ? 'part' : '' },
  }), false, windows.map(windowText).join(t('sh_sep')) || t('sh_no_windows'));
}

// --- the page -----------------------------------------------------------------------------

export async function sharingPage(view, session, isCurrent, failed) {
  const mayWrite = session.role !== 'viewer';
  // #/sharing/<unit id>; a unit's own account goes straight to its unit
  const unitId = decodeURIComponent(location.hash.split('/')[2] ?? '') || (session.scope?.owner_unit ?? '');
  const result = h('div', { class: 'result', testid: 'sh-result', role: 'status' });
  const line = resultLine(result, session, failed, 'sh-error');
  const { report, problem } = line;
  const units = h('div', { testid: 'sh-units' });
  const detail = h('div', { testid: 'sh-unit-detail' });
  const calendar = h('div', { testid: 'sh-calendar' });

  /** A write; then `reload()` (each part of the page reads its own) and `done(answer)`. */
  const write = (method, path, body, done, reload, button) =>
    writer(line, { reload, answerTestid: 'sh-answer' })(method, path, body, done, button);
  const refuse = (found) => report('error', t('sh_fix', { list: found.join(t('list_separator')) }), 'sh-error');
  // Whole-network operators create units and edit the holiday calendar; a unit's own account
  // edits its unit; a county account only sets the access of its own stations (as the API).
  const county = Boolean(session.scope && !session.scope.owner_unit);
  const ctx = { session, mayWrite, mayEditUnit: mayWrite && !county, mayCreate: mayWrite && !session.scope,
                write, refuse, report, problem, isCurrent };

  const loadUnits = async () => {
    const rows = await call('GET', '/api/v1/units');
    if (!isCurrent()) return;
    units.dataset.count = String(rows.length);
    units.replaceChildren(rows.length === 0
      ? h('p', { class: 'muted', testid: 'sh-no-units' }, t('sh_no_units'))
      : table('sh-units-table',
        [t('sh_col_unit'), t('sh_col_name'), t('sh_col_kind'), t('sh_col_county'), t('sh_col_close'), t('sh_col_opened')],
        rows.map((u) => h('tr', { testid: `sh-unit-${u.unit_id}`, 'aria-current': u.unit_id === unitId ? 'true' : null },
          h('td', {}, h('a', { href: `#/sharing/${encodeURIComponent(u.unit_id)}`,
                               testid: `sh-unit-link-${u.unit_id}` }, u.unit_id)),
          h('td', {}, u.name),
          h('td', {}, t(`sh_kind_${u.kind}`)),
          h('td', {}, u.county ?? '–'),
          h('td', {}, closeText(u)),
          h('td', {}, u.opened_on ?? '–')))));
  };
  const loadDetail = async () => {
    if (!unitId) return;
    const parts = await unitDetail(unitId, ctx, loadDetail, loadUnits);
    if (isCurrent()) detail.replaceChildren(...parts.flat().filter(Boolean));
  };
  const loadCalendar = async () => {
    const parts = await calendarSection(ctx, loadCalendar);
    if (isCurrent()) calendar.replaceChildren(...parts.flat().filter(Boolean));
  };

  await Promise.all([loadUnits(), loadDetail(), loadCalendar()]);
  if (!isCurrent()) return;
  if (notice) {
    report('ok', notice, 'sh-answer');
    notice = null;
  }
  const parts = [
    h('h1', {}, t('sharing_title')),
    h('p', { class: 'muted' }, t('sh_intro')),
    mayWrite ? null : h('p', { class: 'muted', testid: 'sh-viewer' }, t('sh_viewer')),
    mayWrite && county ? h('p', { class: 'muted', testid: 'sh-county' }, t('sh_county_note')) : null,
    result,
    unitId ? detail : [h('h2', {}, t('sh_units')), units, ctx.mayCreate ? unitForm(ctx) : null],
    calendar,
  ];
  view.replaceChildren(...parts.flat().filter(Boolean));
}

function closeText(unit) {
  return unit.close_policy === 'stop'
    ? t('sh_close_stop', { minutes: unit.close_grace_minutes })
    : t('sh_close_finish');
}

const select = (testid, options, value, label) => {
  const element = h('select', { testid, 'aria-label': label },
    options.map(([v, text]) => h('option', { value: v }, text)));
  element.value = value;
  return element;
};

/** The unit's fields as inputs (new unit, or editing one). */
function unitInputs(prefix, unit = {}) {
  const input = (name, attrs = {}) => h('input', { testid: `${prefix}-${name}`, autocomplete: 'off', ...attrs });
  return {
    name: input('name', { maxlength: '200', value: unit.name ?? '' }),
    kind: select(`${prefix}-kind`, KINDS.map((k) => [k, t(`sh_kind_${k}`)]), unit.kind ?? 'government', t('sh_kind')),
    county: input('county', { maxlength: '64', value: unit.county ?? '' }),
    policy: select(`${prefix}-policy`, [['finish', t('sh_policy_finish')], ['stop', t('sh_policy_stop')]],
                   unit.close_policy ?? 'finish', t('sh_close_policy')),
    grace: input('grace', { type: 'number', min: '0', max: '1440', value: String(unit.close_grace_minutes ?? 15) }),
    message: input('message', { maxlength: '256', value: unit.close_message ?? '' }),
    opened: input('opened', { type: 'date', value: unit.opened_on ?? '' }),
  };
}

function unitBody(fields) {
  return {
    name: fields.name.value.trim(),
    kind: fields.kind.value,
    county: fields.county.value.trim() || null,
    close_policy: fields.policy.value,
    close_grace_minutes: Number(fields.grace.value),
    close_message: fields.message.value.trim() || null,
    opened_on: fields.opened.value || null,
  };
}

function unitFaults(body) {
  const out = [];
  if (!body.name) out.push(t('sh_f_name'));
  const grace = body.close_grace_minutes;
  if (!Number.isInteger(grace) || grace < 0 || grace > 1440) out.push(t('sh_f_grace'));
  return out;
}

function unitLabels(fields) {
  return [
    h('label', {}, t('sh_name'), fields.name),
    h('label', {}, t('sh_kind'), fields.kind),
    h('label', {}, t('sh_county'), fields.county),
    h('label', {}, t('sh_close_policy'), fields.policy),
    h('label', {}, t('sh_grace'), fields.grace),
    h('label', {}, t('sh_close_message'), fields.message),
    h('label', {}, t('sh_opened_on'), fields.opened),
  ];
}

function unitForm(ctx) {
  const id = h('input', { testid: 'sh-new-id', maxlength: '64', autocomplete: 'off' });
  const fields = unitInputs('sh-new');
  const send = async (event) => {
    event.preventDefault();
    const body = { unit_id: id.value.trim(), ...unitBody(fields) };
    const found = [...(UNIT_ID.test(body.unit_id) ? [] : [t('sh_f_id')]), ...unitFaults(body)];
    if (found.length) {
      ctx.refuse(found);
      return;
    }
    for (const key of ['county', 'close_message', 'opened_on']) if (body[key] === null) delete body[key];
    try {
      const created = await call('POST', '/api/v1/units', body);
      notice = t('sh_unit_created', { id: created.unit_id });
      location.hash = `#/sharing/${encodeURIComponent(created.unit_id)}`;
    } catch (error) {
      ctx.problem(error);
    }
  };
  return h('form', { class: 'card', testid: 'sh-unit-create', onsubmit: send },
    h('h2', {}, t('sh_new_unit')),
    h('div', { class: 'inline' }, h('label', {}, t('sh_unit_id'), id), ...unitLabels(fields)),
    h('button', { type: 'submit', class: 'primary', testid: 'sh-new-submit' }, t('sh_create_unit')));
}

// --- one unit -----------------------------------------------------------------------------

async function unitDetail(unitId, ctx, reload, reloadUnits) {
  const path = `/api/v1/units/${encodeURIComponent(unitId)}`;
  const [unit, decisions, stationList] = await Promise.all([
    call('GET', path),
    call('GET', `/api/v1/access-decisions?unit_id=${encodeURIComponent(unitId)}&limit=20`),
    ctx.mayWrite ? call('GET', '/api/v1/stations?limit=1000').catch(() => []) : [],
  ]);
  const access = await Promise.all(unit.stations.map((s) =>
    call('GET', `/api/v1/stations/${encodeURIComponent(s.id)}/access`).catch(() => null)));
  const both = async () => { await reload(); await reloadUnits(); };
  return [
    ctx.session.scope?.owner_unit ? null : h('p', {}, h('a', { href: '#/sharing', testid: 'sh-back' }, t('sh_back'))),
    h('h2', { testid: 'sh-unit-title' }, t('sh_unit_title', { name: unit.name }), ' ',
      h('span', { class: 'muted' }, unit.unit_id)),
    fieldsSection(unit, path, ctx, both),
    membersSection(unit, path, ctx, reload),
    stationsSection(unit, access, stationList, ctx, reload),
    schedulesSection(unit, path, ctx, reload),
    reportSection(path, ctx),
    decisionsSection(decisions),
  ];
}

function fieldsSection(unit, path, ctx, reload) {
  if (!ctx.mayEditUnit) {
    const row = (label, value, key) => [h('dt', {}, label), h('dd', { testid: `sh-field-${key}` }, value ?? '–')];
    return h('dl', { class: 'fields', testid: 'sh-fields' },
      row(t('sh_name'), unit.name, 'name'), row(t('sh_kind'), t(`sh_kind_${unit.kind}`), 'kind'),
      row(t('sh_county'), unit.county, 'county'), row(t('sh_close_policy'), closeText(unit), 'close'),
      row(t('sh_close_message'), unit.close_message, 'message'), row(t('sh_opened_on'), unit.opened_on, 'opened'));
  }
  const fields = unitInputs('sh-edit', unit);
  const button = h('button', { type: 'submit', class: 'primary', testid: 'sh-edit-submit' }, t('sh_save_unit'));
  const send = (event) => {
    event.preventDefault();
    const body = unitBody(fields);
    const found = unitFaults(body);
    if (found.length) {
      ctx.refuse(found);
      return;
    }
    ctx.write('PATCH', path, body, () => t('sh_unit_saved', { id: unit.unit_id }), reload, button);
  };
  return h('form', { class: 'card', testid: 'sh-fields', onsubmit: send },
    h('h3', {}, t('sh_fields')), h('div', { class: 'inline' }, ...unitLabels(fields)), button);
}

function membersSection(unit, path, ctx, reload) {
  const put = (members, button) => ctx.write('PUT', `${path}/members`, { members },
    (answer) => t('sh_members_saved', { n: answer.members.length }), reload, button);
  const rows = unit.members.map((m, index) => h('tr', { testid: `sh-member-${m.kind}-${m.value}` },
    h('td', {}, t(`sh_member_${m.kind}`)),
    h('td', {}, m.value),
    ctx.mayEditUnit ? h('td', {}, h('button', {
      type: 'button', testid: `sh-member-remove-${m.kind}-${m.value}`,
      onclick: (event) => put(unit.members.filter((_, i) => i !== index), event.target),
    }, t('sh_remove'))) : null));
  const kind = select('sh-member-kind', [['token', t('sh_member_token')], ['group', t('sh_member_group')]],
                      'token', t('sh_member_kind'));
  const value = h('input', { testid: 'sh-member-value', maxlength: '36', autocomplete: 'off' });
  const add = (event) => {
    event.preventDefault();
    if (!value.value.trim()) {
      ctx.refuse([t('sh_f_member')]);
      return;
    }
    put([...unit.members, { kind: kind.value, value: value.value.trim() }], event.submitter);
  };
  return h('section', { testid: 'sh-members', dataset: { count: String(unit.members.length) } },
    h('h3', {}, t('sh_members')),
    h('p', { class: 'muted' }, t('sh_members_help')),
    rows.length
      ? table('sh-members-table', [t('sh_member_kind'), t('sh_member_value'), ...(ctx.mayEditUnit ? [''] : [])], rows)
      : h('p', { class: 'muted', testid: 'sh-no-members' }, t('sh_no_members')),
    ctx.mayEditUnit ? h('form', { class: 'inline', testid: 'sh-member-add', onsubmit: add },
      h('label', {}, t('sh_member_kind'), kind), h('label', {}, t('sh_member_value'), value),
      h('button', { type: 'submit', testid: 'sh-member-submit' }, t('sh_add_member'))) : null);
}

function stationsSection(unit, access, stationList, ctx, reload) {
  const setMode = (id, mode, button) => ctx.write('PUT', `/api/v1/stations/${encodeURIComponent(id)}/access`,
    { access_mode: mode, unit_id: unit.unit_id },
    (answer) => t('sh_access_saved', { id, mode: t(`sh_mode_${answer.access_mode}`), unit: answer.unit_id }),
    reload, button);
  const modes = MODES.map((m) => [m, t(`sh_mode_${m}`)]);
  const rows = unit.stations.map((s, index) => {
    const now = access[index];
    let mode = t(`sh_mode_${s.access_mode}`);
    if (ctx.mayWrite) {
      const choice = select(`sh-station-mode-${s.id}`, modes, s.access_mode, t('sh_col_mode'));
      const save = h('button', { type: 'button', testid: `sh-station-save-${s.id}`,
                                 onclick: (event) => setMode(s.id, choice.value, event.target) }, t('sh_set_mode'));
      mode = h('span', { class: 'inline' }, choice, save);
    }
    return h('tr', { testid: `sh-station-${s.id}`, dataset: { mode: s.access_mode } },
      h('td', {}, h('a', { href: `#/stations/${encodeURIComponent(s.id)}` }, s.id)),
      h('td', {}, mode),
      h('td', { class: s.connected ? 'online' : 'offline' }, s.connected ? t('connected') : t('offline')),
      h('td', { testid: `sh-station-now-${s.id}`, dataset: { open: String(now?.public_may_charge ?? '') } },
        now ? (now.public_may_charge ? t('sh_yes') : t('sh_no')) : '–'),
      h('td', {}, now?.next_change ? when(now.next_change) : '–'));
  });
  let form = null;
  if (ctx.mayWrite) {
    const id = h('input', { testid: 'sh-station-id', list: 'sh-station-ids', autocomplete: 'off', maxlength: '48' });
    const mode = select('sh-station-new-mode', modes, 'shared', t('sh_col_mode'));
    const add = (event) => {
      event.preventDefault();
      if (!id.value.trim()) {
        ctx.refuse([t('sh_f_station')]);
        return;
      }
      setMode(id.value.trim(), mode.value, event.submitter);
    };
    form = h('form', { class: 'inline', testid: 'sh-station-add', onsubmit: add },
      h('label', {}, t('sh_station_id'), id), h('label', {}, t('sh_col_mode'), mode),
      h('datalist', { id: 'sh-station-ids' }, stationList.map((s) => h('option', { value: s.id }))),
      h('button', { type: 'submit', testid: 'sh-station-submit' }, t('sh_add_station')));
  }
  return h('section', { testid: 'sh-stations', dataset: { count: String(unit.stations.length) } },
    h('h3', {}, t('sh_stations')),
    h('p', { class: 'muted' }, t('sh_stations_help')),
    rows.length ? table('sh-stations-table', [t('sh_col_station'), t('sh_col_mode'), t('sh_col_connected'),
                                              t('sh_col_public_now'), t('sh_col_next_change')], rows)
      : h('p', { class: 'muted', testid: 'sh-no-stations' }, t('sh_no_stations')),
    form);
}

function schedulesSection(unit, path, ctx, reload) {
  const editor = ctx.mayEditUnit ? scheduleEditor(unit, path, ctx, reload) : null;
  const cards = unit.schedules.map((s) => scheduleCard(s, path, ctx, reload, editor));
  return h('section', { testid: 'sh-schedules', dataset: { count: String(unit.schedules.length) } },
    h('h3', {}, t('sh_schedules')),
    h('p', { class: 'muted' }, t('sh_schedules_help')),
    cards.length ? h('div', { class: 'schedules' }, cards)
      : h('p', { class: 'muted', testid: 'sh-no-schedules' }, t('sh_no_schedules')),
    editor?.form);
}

function scheduleCard(s, path, ctx, reload, editor) {
  const id = s.id;
  const exceptions = s.exceptions ?? [];
  const pattern = DAYS[s.workday_pattern] ?? 'mon';
  let actions = null;
  if (ctx.mayEditUnit) {
    const lastDay = h('input', { type: 'date', testid: `sh-schedule-${id}-last-day`, min: s.effective_from,
                                 'aria-label': t('sh_end_on') });
    const end = h('button', { type: 'button', testid: `sh-schedule-${id}-end` }, t('sh_end'));
    end.addEventListener('click', () => {
      if (!lastDay.value) {
        ctx.report('error', t('sh_need_end_day'), 'sh-error');
        return;
      }
      ctx.write('POST', `${path}/schedules/${id}/end`, { last_day: lastDay.value },
                (answer) => t('sh_ended', { id, day: answer.effective_to }), reload, end);
    });
    const remove = h('button', { type: 'button', class: 'danger', testid: `sh-schedule-${id}-delete` }, t('sh_delete'));
    const confirmBox = h('span', { class: 'inline', testid: `sh-schedule-${id}-confirm`, hidden: true },
      t('sh_delete_confirm', { id }),
      h('button', { type: 'button', class: 'danger', testid: `sh-schedule-${id}-delete-yes`,
                    onclick: (event) => ctx.write('DELETE', `${path}/schedules/${id}`, undefined,
                                                  () => t('sh_deleted', { id }), reload, event.target) },
        t('delete_yes')),
      h('button', { type: 'button', testid: `sh-schedule-${id}-delete-no`,
                    onclick: () => { confirmBox.hidden = true; remove.hidden = false; } }, t('cancel')));
    remove.addEventListener('click', () => { confirmBox.hidden = false; remove.hidden = true; });
    const copy = h('button', { type: 'button', testid: `sh-schedule-${id}-copy`, onclick: () => {
      editor.load(s);
      ctx.report('ok', t('sh_copied', { id }), 'sh-answer');
    } }, t('sh_copy'));
    actions = h('div', { class: 'inline' },
      h('label', {}, t('sh_end_on'), lastDay), end, copy, remove, confirmBox);
  }
  return h('div', { class: 'card', testid: `sh-schedule-${id}`,
                    dataset: { from: s.effective_from, to: s.effective_to ?? '' } },
    h('h4', {}, t('sh_schedule_title', { id }), ' · ',
      s.station_id ? t('sh_for_station', { id: s.station_id }) : t('sh_whole_unit')),
    h('p', { class: 'muted', testid: `sh-schedule-${id}-effective` }, t('sh_effective', {
      from: s.effective_from, to: s.effective_to ?? t('sh_open_end'), zone: s.time_zone })),
    h('p', { testid: `sh-schedule-${id}-windows` }, s.windows.length
      ? t('sh_windows', { list: s.windows.map(windowText).join(t('sh_sep')) }) : t('sh_no_windows')),
    drawnWeek(`sh-schedule-${id}-week`, s.windows),
    h('p', { class: 'muted' },
      s.holidays_open ? t('sh_holidays_open') : t('sh_holidays_closed'), ' · ',
      t('sh_workday_pattern', { day: t(`sh_day_${pattern}`) }), ' · ',
      t('sh_created_by', { who: s.created_by ?? '–', at: when(s.created_at) })),
    exceptions.length ? table(`sh-schedule-${id}-exceptions`,
      [t('sh_exc_date'), t('sh_exc_kind'), t('sh_exc_windows'), t('sh_exc_note')],
      exceptions.map((e) => h('tr', {},
        h('td', {}, e.date), h('td', {}, t(`sh_exc_${e.kind === 'windows' ? 'own' : e.kind}`)),
        h('td', {}, (e.windows ?? []).map((w) => `${w.start}–${w.end}`).join(', ') || '–'),
        h('td', {}, e.note || '–')))) : null,
    actions);
}

/** The schedule editor: the week to draw on, dates, holidays, exceptions, the JSON to send. */
function scheduleEditor(unit, path, ctx, reload) {
  const open = DAYS.map(() => new Array(CELLS).fill(false));
  let brush = true; // paint open
  const slots = DAYS.map(() => []);
  const json = h('pre', { class: 'answer', testid: 'sh-schedule-json' });
  const from = h('input', { type: 'date', testid: 'sh-schedule-from' });
  const until = h('input', { type: 'date', testid: 'sh-schedule-until' });
  const station = select('sh-schedule-station',
    [['', t('sh_whole_unit')], ...unit.stations.map((s) => [s.id, t('sh_for_station', { id: s.id })])], '',
    t('sh_station_choice'));
  const holidays = h('input', { type: 'checkbox', testid: 'sh-schedule-holidays', checked: true });
  const pattern = select('sh-schedule-pattern', DAYS.slice(0, 5).map((d) => [d, t(`sh_day_${d}`)]), 'mon',
                         t('sh_workday_pattern', { day: '' }));
  const exceptionRows = h('tbody', { testid: 'sh-exceptions-new' });

  const paint = (d, i, value = brush) => {
    open[d][i] = value;
    slots[d][i].dataset.open = value ? 'full' : '';
    show();
  };
  const grid = week('sh-week', (d, i) => {
    const slot = h('button', {
      type: 'button', class: `slot${i % 2 === 0 ? ' hour-start' : ''}`, testid: `sh-cell-${DAYS[d]}-${i}`,
      'aria-label': `${t(`sh_day_${DAYS[d]}`)} ${clock(i)}–${i + 1 === CELLS ? '24:00' : clock(i + 1)}`,
      onmousedown: (event) => { event.preventDefault(); drag.on = true; paint(d, i); },
      onmouseenter: () => { if (drag.on) paint(d, i); },
      onclick: () => paint(d, i),
    });
    slots[d][i] = slot;
    return slot;
  }, true);
  const brushes = {};
  const choose = (value) => {
    brush = value;
    brushes.open.setAttribute('aria-pressed', String(value));
    brushes.closed.setAttribute('aria-pressed', String(!value));
  };
  brushes.open = h('button', { type: 'button', class: 'brush brush-open', testid: 'sh-brush-open', 'aria-pressed': 'true',
                               onclick: () => choose(true) }, t('sh_brush_open'));
  brushes.closed = h('button', { type: 'button', class: 'brush', testid: 'sh-brush-closed', 'aria-pressed': 'false',
                                 onclick: () => choose(false) }, t('sh_brush_closed'));
  /** Fill the week from weekly windows (a copied schedule, or the example). */
  const fill = (windows) => {
    const covered = coverage(windows);
    DAYS.forEach((_, d) => covered[d].forEach((m, i) => paint(d, i, m === 30)));
  };
  const example = [{ days: DAYS.slice(0, 5), start: '18:00', end: '08:00' },
                   { days: ['sat', 'sun'], start: '00:00', end: '24:00' }];

  const addException = (e = {}) => {
    const date = h('input', { type: 'date', testid: 'sh-exc-date', value: e.date ?? '' });
    const kind = select('sh-exc-kind',
                        [['closed', t('sh_exc_closed')], ['open', t('sh_exc_open')], ['windows', t('sh_exc_own')]],
                        e.kind ?? 'closed', t('sh_exc_kind'));
    const spans = h('input', { testid: 'sh-exc-windows', placeholder: t('sh_exc_windows_hint'), autocomplete: 'off',
                               value: (e.windows ?? []).map((w) => `${w.start}-${w.end}`).join(', ') });
    const note = h('input', { testid: 'sh-exc-note', maxlength: '200', autocomplete: 'off', value: e.note ?? '' });
    const ownWindows = () => { spans.disabled = kind.value !== 'windows'; };
    kind.addEventListener('change', ownWindows);
    ownWindows();
    const row = h('tr', { class: 'exception' }, h('td', {}, date), h('td', {}, kind), h('td', {}, spans), h('td', {}, note),
      h('td', {}, h('button', { type: 'button', testid: 'sh-exc-remove', onclick: () => { row.remove(); show(); } },
        t('sh_remove'))));
    row.read = () => ({ date: date.value, kind: kind.value, spans: spans.value, note: note.value.trim() });
    exceptionRows.append(row);
    show();
  };

  /** The request body as drawn, and the faults the console can see. */
  const draft = () => {
    const found = [];
    const body = { effective_from: from.value, windows: windowsOf(open) };
    if (!DATE.test(from.value)) found.push(t('sh_f_from'));
    if (until.value) {
      body.effective_to = until.value;
      if (from.value && until.value < from.value) found.push(t('sh_f_until'));
    }
    if (station.value) body.station_id = station.value;
    body.holidays_open = holidays.checked;
    body.workday_pattern = pattern.value;
    const seen = new Set();
    body.exceptions = [...exceptionRows.children].map((row) => {
      const e = row.read();
      if (!DATE.test(e.date)) found.push(t('sh_f_exc_date'));
      else if (seen.has(e.date)) found.push(t('sh_f_exc_twice', { day: e.date }));
      seen.add(e.date);
      const out = { date: e.date, kind: e.kind, note: e.note };
      if (e.kind === 'windows') {
        const parts = e.spans.split(/[,，;；]/).filter((p) => p.trim());
        out.windows = parts.map((p) => SPAN.exec(p)).filter(Boolean).map((m) => ({ start: m[1], end: m[2] }));
        if (!parts.length || out.windows.length !== parts.length) found.push(t('sh_f_exc_windows', { day: e.date }));
      }
      return out;
    });
    return { body, found };
  };
  function show() {
    json.textContent = JSON.stringify(draft().body, null, 2);
  }

  const submit = h('button', { type: 'submit', class: 'primary', testid: 'sh-schedule-submit' }, t('sh_create_schedule'));
  const send = (event) => {
    event.preventDefault();
    const { body, found } = draft();
    if (found.length) {
      ctx.refuse(found);
      return;
    }
    ctx.write('POST', `${path}/schedules`, body, (answer) => t('sh_schedule_created', {
      id: answer.id, list: answer.windows.map(windowText).join(t('sh_sep')) || t('sh_no_windows') }), reload, submit);
  };
  const form = h('form', { class: 'card', testid: 'sh-schedule-editor', onsubmit: send, oninput: show, onchange: show },
    h('h3', {}, t('sh_new_schedule')),
    h('div', { class: 'inline' },
      h('label', {}, t('sh_from'), from), h('label', {}, t('sh_until'), until),
      h('label', {}, t('sh_station_choice'), station),
      h('label', {}, t('sh_workday_pattern', { day: '' }), pattern),
      h('label', { class: 'check' }, holidays, t('sh_holidays_open'))),
    h('p', { class: 'muted' }, t('sh_grid_help')),
    h('div', { class: 'inline' }, brushes.open, brushes.closed,
      h('button', { type: 'button', testid: 'sh-clear', onclick: () => fill([]) }, t('sh_clear')),
      h('button', { type: 'button', testid: 'sh-example', onclick: () => fill(example) }, t('sh_evenings'))),
    grid,
    h('h4', {}, t('sh_exceptions')),
    h('table', {}, h('thead', {}, h('tr', {}, [t('sh_exc_date'), t('sh_exc_kind'), t('sh_exc_windows'), t('sh_exc_note'), '']
      .map((x) => h('th', {}, x)))), exceptionRows),
    h('button', { type: 'button', testid: 'sh-exc-add', onclick: () => addException() }, t('sh_add_exception')),
    h('details', { testid: 'sh-schedule-json-details' }, h('summary', {}, t('sh_json')), json),
    submit);
  show();
  const load = (s) => {
    fill(s.windows);
    holidays.checked = s.holidays_open;
    pattern.value = DAYS[s.workday_pattern] ?? 'mon';
    station.value = s.station_id ?? '';
    exceptionRows.replaceChildren();
    for (const e of s.exceptions ?? []) addException(e);
    show();
    form.scrollIntoView();
  };
  return { form, load };
}

/** The unit's monthly report as the API computes it (GET /api/v1/units/{id}/report). */
function reportSection(path, ctx) {
  const month = h('input', { type: 'month', testid: 'sh-report-month' });
  const out = h('div', { testid: 'sh-report' });
  const percent = (ratio) => (ratio == null ? '–' : `${(Number(ratio) * 100).toFixed(2)}%`);
  const money = (f) => t('sh_report_money', { n: f.billed_sessions, kwh: f.energy_kwh, revenue: f.revenue });
  const show = async (event) => {
    event.preventDefault();
    if (!/^\d{4}-\d{2}$/.test(month.value)) {
      ctx.refuse([t('sh_f_month')]);
      return;
    }
    try {
      const r = await call('GET', `${path}/report?month=${month.value}`);
      const row = (key, label, value) => [h('dt', {}, label), h('dd', { testid: `sh-report-${key}` }, value)];
      const before = r.utilization.before_opening;
      out.replaceChildren(
        h('dl', { class: 'fields', dataset: { month: r.month } },
          row('period', t('sh_report_month'), `${r.month} (${r.time_zone})`),
          row('public', t('sh_report_public'), money(r.public)),
          row('members', t('sh_report_members'), money(r.members)),
          row('sessions', t('sh_report_sessions'), t('sh_report_sessions_value', r.sessions)),
          row('utilization', t('sh_report_utilization'), percent(r.utilization.this_month.time_utilization)),
          row('before', t('sh_report_before'), before ? percent(before.time_utilization) : t('sh_report_no_opening')),
          row('hours', t('sh_report_hours'), r.public_hours_open),
          row('refused', t('sh_report_refused'), String(r.refused_starts))),
        r.stations.length ? table('sh-report-stations', [t('sh_col_station'), t('sh_col_mode'), t('sh_report_hours')],
          r.stations.map((s) => h('tr', {}, h('td', {}, s.station_id), h('td', {}, t(`sh_mode_${s.access_mode}`)),
            h('td', {}, s.public_hours_open)))) : null);
    } catch (error) {
      out.replaceChildren();
      ctx.problem(error);
    }
  };
  return h('section', {},
    h('h3', {}, t('sh_report')),
    h('form', { class: 'inline', testid: 'sh-report-form', onsubmit: show },
      h('label', {}, t('sh_report_month'), month),
      h('button', { type: 'submit', testid: 'sh-report-submit' }, t('sh_report_show'))),
    out);
}

function decisionsSection(decisions) {
  return h('section', { testid: 'sh-decisions', dataset: { count: String(decisions.length) } },
    h('h3', {}, t('sh_decisions')),
    decisions.length === 0 ? h('p', { class: 'muted' }, t('sh_no_decisions'))
      : table('sh-decisions-table',
        [t('sh_col_at'), t('sh_col_station'), t('sh_col_token'), t('sh_col_context'), t('sh_col_reason')],
        decisions.map((d) => h('tr', {},
          h('td', {}, when(d.at)), h('td', {}, d.station_id), h('td', {}, d.id_token ?? '–'),
          h('td', {}, d.context), h('td', {}, d.reason)))));
}

// --- the holiday calendar -----------------------------------------------------------------

async function calendarSection(ctx, reload) {
  const doc = await call('GET', '/api/v1/calendar');
  const years = doc.covers_years ? [doc.covers_years[0], doc.covers_years[1]] : null;
  const choices = [];
  if (years) for (let y = years[0]; y <= years[1] + 1; y += 1) choices.push(y);
  else choices.push(new Date().getFullYear());
  const shownYear = calendarYear ?? (years ? Math.min(Math.max(new Date().getFullYear(), years[0]), years[1]) : choices[0]);
  const year = select('sh-year', choices.map((y) => [String(y), String(y)]), String(shownYear), t('sh_year'));
  const months = h('div', { class: 'months', testid: 'sh-months' });

  const put = (holidays, workdays, button) => ctx.write('PUT', '/api/v1/calendar',
    { name: doc.name, holidays, adjusted_workdays: workdays, sources: doc.sources || [] },  // an edit keeps where the dates came from
    (answer) => t('sh_calendar_saved', { holidays: answer.holidays.length, workdays: answer.adjusted_workdays.length }),
    reload, button);
  const removable = (testid, text, without) => {
    if (!ctx.mayCreate) return h('li', { testid }, text);
    const remove = h('button', { type: 'button', testid: `${testid}-remove` }, t('sh_remove'));
    const yes = h('button', { type: 'button', class: 'danger', testid: `${testid}-remove-yes`,
                              onclick: (event) => without(event.target) }, t('sh_remove_confirm'));
    const no = h('button', { type: 'button', testid: `${testid}-remove-no` }, t('cancel'));
    const confirmBox = h('span', { hidden: true }, ' ', yes, ' ', no);
    remove.addEventListener('click', () => { confirmBox.hidden = false; remove.hidden = true; });
    no.addEventListener('click', () => { confirmBox.hidden = true; remove.hidden = false; });
    return h('li', { testid }, text, ' ', remove, confirmBox);
  };
  const drawMonths = () => {
    calendarYear = Number(year.value);
    const y = year.value;
    months.replaceChildren(...Array.from({ length: 12 }, (_, index) => {
      const month = `${y}-${String(index + 1).padStart(2, '0')}`;
      const items = [
        ...doc.holidays.filter((s) => s.from.slice(0, 7) <= month && s.to.slice(0, 7) >= month).map((s) =>
          removable(`sh-holiday-${s.from}`,
            t('sh_holiday_span', { name: s.name, from: s.from, to: s.to, n: daysBetween(s.from, s.to) }),
            (button) => put(doc.holidays.filter((x) => x !== s), doc.adjusted_workdays, button))),
        ...doc.adjusted_workdays.filter((d) => d.startsWith(month)).map((d) =>
          removable(`sh-workday-${d}`, t('sh_workday', { day: d }),
            (button) => put(doc.holidays, doc.adjusted_workdays.filter((x) => x !== d), button))),
      ];
      return h('div', { class: 'card', testid: `sh-month-${month}`, dataset: { count: String(items.length) } },
        h('strong', {}, t('sh_month', { month: index + 1 })),
        items.length ? h('ul', {}, items) : h('p', { class: 'muted' }, t('sh_nothing_this_month')));
    }));
  };
  year.addEventListener('change', drawMonths);
  drawMonths();

  let forms = null;
  if (ctx.mayCreate) {
    const name = h('input', { testid: 'sh-holiday-name', maxlength: '50', autocomplete: 'off' });
    const first = h('input', { type: 'date', testid: 'sh-holiday-from' });
    const last = h('input', { type: 'date', testid: 'sh-holiday-to' });
    const addHoliday = (event) => {
      event.preventDefault();
      if (!name.value.trim() || !DATE.test(first.value) || !DATE.test(last.value)) {
        ctx.refuse([t('sh_f_holiday')]);
        return;
      }
      const span = { name: name.value.trim(), from: first.value, to: last.value };
      const holidays = [...doc.holidays, span].sort((a, b) => a.from.localeCompare(b.from));
      calendarYear = Number(first.value.slice(0, 4));
      put(holidays, doc.adjusted_workdays, event.submitter);
    };
    const workday = h('input', { type: 'date', testid: 'sh-workday-day' });
    const addWorkday = (event) => {
      event.preventDefault();
      if (!DATE.test(workday.value)) {
        ctx.refuse([t('sh_f_workday')]);
        return;
      }
      calendarYear = Number(workday.value.slice(0, 4));
      put(doc.holidays, [...doc.adjusted_workdays, workday.value].sort(), event.submitter);
    };
    forms = [
      h('form', { class: 'inline card', testid: 'sh-holiday-add', onsubmit: addHoliday },
        h('label', {}, t('sh_holiday_name'), name), h('label', {}, t('sh_holiday_from'), first),
        h('label', {}, t('sh_holiday_to'), last),
        h('button', { type: 'submit', testid: 'sh-holiday-submit' }, t('sh_add_holiday'))),
      h('form', { class: 'inline card', testid: 'sh-workday-add', onsubmit: addWorkday },
        h('label', {}, t('sh_workday_day'), workday),
        h('button', { type: 'submit', testid: 'sh-workday-submit' }, t('sh_add_workday'))),
    ];
  }
  return [
    h('h2', {}, t('sh_calendar')),
    h('p', { class: 'muted' }, t('sh_calendar_help')),
    h('p', { testid: 'sh-calendar-covers' }, years
      ? t('sh_calendar_covers', { name: doc.name, from: years[0], to: years[1] })
      : t('sh_calendar_empty', { name: doc.name })),
    h('div', { class: 'inline' }, h('label', {}, t('sh_year'), year)),
    months,
    forms,
  ];
}
