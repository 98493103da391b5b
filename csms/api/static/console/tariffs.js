/*
 * Tariffs (电价): every tariff's newest version with its time-of-use bands drawn as a 24-hour
 * bar per day plan, its prices, idle fee and assignments; its older versions (each drawn the
 * same way, as the API stored it). Operators and admins draw a new tariff, or a new version of
 * one pre-filled from its newest version (tariffs are never edited: sessions are billed by the
 * version in force at their start). A tariff has one or more day plans, each for some months
 * and day types (workday, weekend, holiday) or every day; the first plan that applies to a day
 * wins, as in the API. The editor shows the JSON before it is sent and names what to fix; the
 * API checks it again and names every fault (422).
 * Assignments say where a tariff bills (the whole network, an owner unit's stations, a site, a
 * station) from when, and for whom; operators add them and delete them after a confirm step.
 * The cost preview asks the API (POST /api/v1/tariffs/{id}/quote): no bill is computed here.
 */

import { call, resultLine, writer } from './api.js';
import { h, isoOf, localOf, table } from './dom.js';
import { addWords, t, when } from './i18n.js';

addWords({
  zh: {
    tv_show_versions: '历史版本',
    tv_hide_versions: '收起历史版本',
    tv_col_version: '版本',
    tv_col_name: '名称',
    tv_col_from: '生效',
    tv_col_to: '失效',
    tv_col_by: '创建者',
    tv_view: '查看',
    tv_viewing: '第 {version} 版：{name}',
    tv_new_version: '新建版本',
    tv_editor_version: '{id} 的新版本（底稿：第 {version} 版）',
    tv_back_to_new: '改为新建电价（保留已画内容）',
    tv_submit_version: '保存为新版本',
    tv_version_created: '电价 {id} 的第 {version} 版已保存，自 {from} 起生效；之前开始的充电仍按旧版本计费。',
    tv_version_loaded: '已载入 {id} 第 {version} 版；修改后填写生效时间并保存为新版本。',
    tv_not_drawable: '{id} 第 {version} 版有不在整点或半点的时段边界（{edge}），编辑器无法绘制；请通过 API（POST /api/v1/tariffs/{id}/versions）新增版本。',
    tv_plan: '日计划 {n}',
    tv_plans_help: '每天按顺序使用第一个适用的日计划：把特定月份或日类型（如节假日）的计划放在前面，最后留一个全年每天适用的计划。月份和日类型都不勾选即适用于全部。',
    tv_day_types: '日类型：',
    tv_months: '月份：',
    tv_month: '{m}月',
    tv_add_plan: '添加日计划',
    tv_move_up: '上移',
    tv_remove_plan: '删除此日计划',
    tv_plan_fault: '日计划 {n}：{fault}',
    tv_uncovered: '没有日计划适用于 {month} 月的{day}（可加一个全年每天适用的日计划兜底）',
    tv_effective_to: '失效时间（可不填）',
    tv_fault_to: '失效时间须晚于生效时间',
    tv_session_fee: '每次充电另收（元，可不填）',
    tv_fault_session_fee: '每次充电另收的费用须为不小于 0 的数，最多 2 位小数',
    ta_title: '电价分配',
    ta_intro: '电价按分配计费：全网、一个产权单位的充电站、一个场站或一个充电站，自生效时间起；一次充电按开始时最具体的有效分配计价。删除分配不影响已出的账单。',
    ta_none: '还没有电价分配。',
    ta_col_id: '编号',
    ta_col_tariff: '电价',
    ta_col_scope: '范围',
    ta_col_target: '对象',
    ta_col_audience: '适用于',
    audience_all: '所有用户',
    audience_member: '产权单位成员',
    audience_public: '公众',
    ta_target: '对象（充电站编号、场站名称或产权单位编号）',
    ta_submit: '分配',
    ta_created: '电价 {tariff} 已分配（分配编号 {id}：{scope}{target}）。',
    ta_need_tariff: '请先新建电价，再分配。',
    ta_site_stations: '{n} 个充电站',
    ta_need_target: '请填写对象：充电站编号、场站名称或产权单位编号（全网不填）。',
    ta_need_from: '请选择生效时间。',
    ta_delete_confirm: '确定删除分配 {id}？已出的账单不受影响。',
    ta_deleted: '分配 {id} 已删除。',
  },
  en: {
    tv_show_versions: 'Versions',
    tv_hide_versions: 'Hide versions',
    tv_col_version: 'Version',
    tv_col_name: 'Name',
    tv_col_from: 'In force from',
    tv_col_to: 'Until',
    tv_col_by: 'Created by',
    tv_view: 'Show',
    tv_viewing: 'Version {version}: {name}',
    tv_new_version: 'New version',
    tv_editor_version: 'New version of {id} (drawn from version {version})',
    tv_back_to_new: 'Make it a new tariff instead (keeps the drawing)',
    tv_submit_version: 'Save as new version',
    tv_version_created: 'Version {version} of tariff {id} saved, in force from {from}; sessions started before stay billed by the older version.',
    tv_version_loaded: 'Version {version} of {id} loaded; change it, set when it takes effect and save it as a new version.',
    tv_not_drawable: 'Version {version} of {id} has a band edge off the hour or half hour ({edge}) that the editor cannot draw; add the version through the API (POST /api/v1/tariffs/{id}/versions).',
    tv_plan: 'Day plan {n}',
    tv_plans_help: 'Each day uses the first day plan that applies to it: put plans for some months or day types (holidays, say) first and end with a plan for every day. No month and no day type ticked means all of them.',
    tv_day_types: 'Day types:',
    tv_months: 'Months:',
    tv_month: '{m}',
    tv_add_plan: 'Add a day plan',
    tv_move_up: 'Move up',
    tv_remove_plan: 'Remove this day plan',
    tv_plan_fault: 'day plan {n}: {fault}',
    tv_uncovered: 'no day plan applies to {day} in month {month} (end with a plan for every day)',
    tv_effective_to: 'Until (optional)',
    tv_fault_to: '"until" must be after "effective from"',
    tv_session_fee: 'Per session (CNY, optional)',
    tv_fault_session_fee: 'the per-session fee must be a number of at least 0 with at most 2 decimals',
    ta_title: 'Tariff assignments',
    ta_intro: 'Tariffs bill where they are assigned: the whole network, an owner unit\'s stations, a site or a station, from a given time; a session is priced by the most specific assignment in force at its start. Deleting an assignment leaves bills already filed as they are.',
    ta_none: 'No tariff assignments yet.',
    ta_col_id: 'No.',
    ta_col_tariff: 'Tariff',
    ta_col_scope: 'Scope',
    ta_col_target: 'Target',
    ta_col_audience: 'Prices',
    audience_all: 'everyone',
    audience_member: 'owner unit members',
    audience_public: 'the public',
    ta_target: 'Target (station id, site name or owner unit id)',
    ta_submit: 'Assign',
    ta_created: 'Tariff {tariff} assigned (assignment {id}: {scope}{target}).',
    ta_need_tariff: 'Create a tariff first, then assign it.',
    ta_site_stations: '{n} stations',
    ta_need_target: 'Fill in the target: a station id, a site name or an owner unit id (none for the whole network).',
    ta_need_from: 'Choose when the assignment takes effect.',
    ta_delete_confirm: 'Delete assignment {id}? Bills already filed stay as they are.',
    ta_deleted: 'Assignment {id} deleted.',
  },
});

const BANDS = ['sharp', 'peak', 'flat', 'valley']; // the API's bands, dearest first
const DAY_TYPES = ['workday', 'weekend', 'holiday'];
const MONTHS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
const SCOPES = ['network', 'owner', 'site', 'station'];
const AUDIENCES = ['all', 'member', 'public'];
const CELLS = 48; // half hours of a day
const PRICE = /^\d{1,6}(\.\d{1,4})?$/; // CNY per kWh, at most 4 decimals (as the API)
const FEE = /^\d{1,6}(\.\d{1,2})?$/; // CNY, at most 2 decimals
const TARIFF_ID = /^[A-Za-z0-9._-]{1,64}$/;
const TICK = 'display:inline-block;width:auto;margin:0 0.25rem 0 0'; // a checkbox inside a label
const drag = { on: false }; // a mouse button held down over the half-hour cells
document.addEventListener('mouseup', () => { drag.on = false; });

const minutes = (hhmm) => {
  const [hours, mins] = hhmm.split(':').map(Number);
  return hours * 60 + mins;
};
const clock = (cell) => `${String(Math.floor(cell / 2)).padStart(2, '0')}:${cell % 2 ? '30' : '00'}`;
const hours = () => h('div', { class: 'bar24-hours muted' },
  ['00:00', '06:00', '12:00', '18:00', '24:00'].map((x) => h('span', {}, x)));

/** Which days a plan covers, in words. */
function planDays(plan) {
  const parts = [];
  if (plan.months?.length) parts.push(t('tariff_months', { list: plan.months.join(t('list_separator')) }));
  if (plan.day_types?.length) {
    parts.push(plan.day_types.map((d) => t(`day_${d}`)).join(t('list_separator')));
  }
  return parts.length ? parts.join(' · ') : t('tariff_every_day');
}

/** A day plan as a 24-hour bar: one coloured segment per period, labelled with its prices. */
function bar(testid, plan, prices) {
  const segments = [...plan.periods]
    .sort((a, b) => minutes(a.start) - minutes(b.start))
    .map((period) => {
      const price = prices[period.band];
      const label = `${t(`band_${period.band}`)} ${price ? `${price.energy}+${price.service}` : ''}`;
      const segment = h('div', {
        class: `segment band-${period.band}`,
        title: `${period.start}–${period.end} ${label} ${t('per_kwh')}`,
        dataset: { band: period.band, start: period.start, end: period.end },
      }, h('span', {}, label));
      segment.style.flexGrow = String(minutes(period.end) - minutes(period.start));
      return segment;
    });
  return h('div', { class: 'tariff-day' },
    h('div', { class: 'bar24', testid, role: 'img',
               'aria-label': plan.periods.map((p) => `${p.start}–${p.end} ${t(`band_${p.band}`)}`).join(', ') },
      segments),
    hours());
}

/** A tariff version's day plans as bars and its prices as a table; `prefix` names the bars. */
function drawing(prefix, tariff) {
  const prices = tariff.prices;
  const priceRows = BANDS.filter((b) => prices[b]).map((band) =>
    h('tr', { testid: `${prefix}-price-${band}` },
      h('td', {}, h('span', { class: `swatch band-${band}` }), t(`band_${band}`)),
      h('td', {}, prices[band].energy), h('td', {}, prices[band].service)));
  return [
    tariff.plans.map((plan, index) => h('div', {},
      h('p', { class: 'plan-days' }, planDays(plan)), bar(`${prefix}-bar-${index}`, plan, prices))),
    h('table', { class: 'prices' },
      h('thead', {}, h('tr', {}, h('th', {}, t('tariff_band')), h('th', {}, t('energy_price')),
                       h('th', {}, t('service_price')))),
      h('tbody', {}, priceRows)),
  ];
}

function idleText(tariff) {
  const idle = tariff.idle_fee
    ? t('tariff_idle', { per_minute: tariff.idle_fee.per_minute, grace: tariff.idle_fee.grace_minutes ?? 0,
                         cap: tariff.idle_fee.cap ?? t('tariff_no_cap') })
    : t('tariff_no_idle');
  const session = tariff.session_fee && Number(tariff.session_fee) !== 0
    ? ` ${t('tariff_session_fee', { fee: tariff.session_fee })}` : '';
  return idle + session;
}

const tariffPath = (id) => `/api/v1/tariffs/${encodeURIComponent(id)}`;

/** A tariff's versions, oldest first, each opened as bars from GET .../versions/{v}. */
async function versionList(id, problem) {
  const rows = await call('GET', `${tariffPath(id)}/versions`);
  const shown = h('div', { testid: `tariff-${id}-version-view` });
  const open = async (version) => {
    try {
      const old = await call('GET', `${tariffPath(id)}/versions/${version}`);
      shown.replaceChildren(h('div', { class: 'card', testid: `tariff-${id}-v${version}` },
        h('h3', {}, t('tv_viewing', { version: old.version, name: old.name })),
        h('p', { class: 'muted' }, t('tariff_effective', {
          from: when(old.effective_from), to: when(old.effective_to), zone: old.time_zone })),
        drawing(`tariff-${id}-v${version}`, old),
        h('p', { testid: `tariff-${id}-v${version}-idle` }, idleText(old))));
    } catch (error) {
      problem(error);
    }
  };
  const lines = rows.map((row) => h('tr', { testid: `tariff-${id}-version-${row.version}` },
    h('td', {}, `v${row.version}`),
    h('td', {}, row.name),
    h('td', {}, when(row.effective_from)),
    h('td', {}, when(row.effective_to)),
    h('td', {}, row.created_by ?? '–'),
    h('td', {}, when(row.created_at)),
    h('td', {}, h('button', { type: 'button', testid: `tariff-${id}-view-${row.version}`,
                              onclick: () => open(row.version) }, t('tv_view')))));
  return h('div', { dataset: { count: String(rows.length) }, testid: `tariff-${id}-versions-list` },
    table(`tariff-${id}-versions-table`, [t('tv_col_version'), t('tv_col_name'), t('tv_col_from'),
      t('tv_col_to'), t('tv_col_by'), t('col_created_at'), t('col_actions')], lines),
    shown);
}

function tariffCard(tariff, assignments, problem, newVersion) {
  const id = tariff.tariff_id;
  const mine = assignments.filter((a) => a.tariff_id === id);
  const assigned = mine.length === 0
    ? t('tariff_unassigned')
    : mine.map((a) => `${t(`scope_${a.scope}`)}${a.target ? ` ${a.target}` : ''} (${t('from_time', { time: when(a.effective_from) })})`)
      .join(t('list_separator'));
  const versions = h('div', { testid: `tariff-${id}-versions`, hidden: true });
  const toggle = h('button', { type: 'button', testid: `tariff-${id}-show-versions` }, t('tv_show_versions'));
  toggle.addEventListener('click', async () => {
    if (!versions.hidden) {
      versions.hidden = true;
      toggle.textContent = t('tv_show_versions');
      return;
    }
    try {
      versions.replaceChildren(await versionList(id, problem));
      versions.hidden = false;
      toggle.textContent = t('tv_hide_versions');
    } catch (error) {
      problem(error);
    }
  });
  const buttons = [toggle];
  if (newVersion) {
    buttons.push(h('button', { type: 'button', testid: `tariff-${id}-new-version`,
                               onclick: () => newVersion(tariff) }, t('tv_new_version')));
  }
  return h('section', { class: 'card', testid: `tariff-${id}` },
    h('h2', {}, `${tariff.name} `, h('span', { class: 'muted' }, `${id} · v${tariff.version}`)),
    h('p', { class: 'muted' }, t('tariff_effective', {
      from: when(tariff.effective_from), to: when(tariff.effective_to), zone: tariff.time_zone })),
    drawing(`tariff-${id}`, tariff),
    h('p', { testid: `tariff-${id}-idle` }, idleText(tariff)),
    h('p', { testid: `tariff-${id}-assigned` }, t('tariff_assigned', { list: assigned })),
    h('div', { class: 'inline' }, buttons),
    versions);
}

// --- the editor -------------------------------------------------------------------------------

const blankPlan = () => ({ months: new Set(), dayTypes: new Set(), cells: new Array(CELLS).fill(null) });

/** A stored day plan as editor cells: { plan } or, when it cannot be drawn, { edge }. */
function planFrom(stored) {
  const plan = blankPlan();
  for (const month of stored.months ?? []) plan.months.add(month);
  for (const dayType of stored.day_types ?? []) plan.dayTypes.add(dayType);
  for (const period of stored.periods) {
    const [start, end] = [minutes(period.start), minutes(period.end)];
    if (start % 30) return { edge: period.start };
    if (end % 30) return { edge: period.end };
    for (let cell = start / 30; cell < end / 30; cell += 1) plan.cells[cell] = period.band;
  }
  return { plan };
}

/** The periods of a day's cells: runs of one band, 24:00 ending the day. */
function periodsOf(cells) {
  const periods = [];
  cells.forEach((band, index) => {
    const last = periods[periods.length - 1];
    const end = index + 1 === CELLS ? '24:00' : clock(index + 1);
    if (band && last && last.band === band && last.end === clock(index)) last.end = end;
    else if (band) periods.push({ start: clock(index), end, band });
  });
  return periods;
}

/** The first month and day type no plan applies to (the API refuses such a tariff), or null. */
function uncovered(plans) {
  for (const month of MONTHS) {
    for (const day of DAY_TYPES) {
      const applies = plans.some((p) => (p.months.size === 0 || p.months.has(month))
                                        && (p.dayTypes.size === 0 || p.dayTypes.has(day)));
      if (!applies) return { month, day };
    }
  }
  return null;
}

/** Plan 0 keeps the editor's first test ids (tariff-cell-N, tariff-fill-all). */
const planId = (index, name) => (index === 0 ? `tariff-${name}` : `tariff-plan-${index}-${name}`);

/** A checkbox with its label on one line (style set through the CSSOM, not an attribute). */
function tick(testid, label, checked, change) {
  const box = h('input', { type: 'checkbox', testid, checked, onchange: (e) => change(e.target.checked) });
  box.style.cssText = TICK;
  return h('label', { class: 'tick' }, box, label);
}

/**
 * The editor: fields, the band brush, one or more day plans of 48 half-hour cells, the JSON it
 * will send. Returns the form and `draw(tariff)`, which loads a version for a new version.
 */
function editor(result, report, problem, reload) {
  let plans = [blankPlan()];
  let brush = 'flat';
  let base = null; // the version a new version is drawn from; null: a new tariff

  const input = (testid, attrs = {}) => h('input', { testid, autocomplete: 'off', ...attrs });
  const tariffId = input('tariff-new-id', { maxlength: '64' });
  const name = input('tariff-new-name', { maxlength: '200' });
  const from = input('tariff-new-from', { type: 'datetime-local', value: localOf(new Date().toISOString()) });
  const until = input('tariff-new-to', { type: 'datetime-local' });
  const priceInputs = {};
  const brushes = {};
  const bandRows = BANDS.map((band) => {
    const energy = input(`tariff-new-${band}-energy`, { inputmode: 'decimal', size: '8' });
    const service = input(`tariff-new-${band}-service`, { inputmode: 'decimal', size: '8' });
    priceInputs[band] = { energy, service };
    brushes[band] = h('button', { type: 'button', class: `brush band-${band}`, testid: `tariff-brush-${band}`,
                                  'aria-pressed': String(band === brush),
                                  onclick: () => choose(band) }, t(`band_${band}`));
    return h('tr', {}, h('td', {}, brushes[band]), h('td', {}, energy), h('td', {}, service));
  });
  const idlePerMinute = input('tariff-new-idle-per-minute', { inputmode: 'decimal', size: '8' });
  const idleGrace = input('tariff-new-idle-grace', { type: 'number', min: '0', max: '1440', value: '0' });
  const idleCap = input('tariff-new-idle-cap', { inputmode: 'decimal', size: '8' });
  const sessionFee = input('tariff-new-session-fee', { inputmode: 'decimal', size: '8' });
  const json = h('pre', { class: 'answer', testid: 'tariff-json' });
  const plansBox = h('div', { testid: 'tariff-plans' });
  const title = h('h2', { testid: 'tariff-editor-title' }, t('tariff_new'));
  const submit = h('button', { type: 'submit', class: 'primary', testid: 'tariff-create-submit' },
                   t('tariff_create'));
  const backToNew = h('button', { type: 'button', testid: 'tariff-back-to-new', hidden: true,
                                  onclick: () => setBase(null) }, t('tv_back_to_new'));

  function choose(band) {
    brush = band;
    for (const [key, button] of Object.entries(brushes)) button.setAttribute('aria-pressed', String(key === band));
  }

  /** One day plan: its months and day types, its 48 cells, fill / move up / remove. */
  function planSection(plan, index) {
    const cellButtons = plan.cells.map((band, cell) => h('button', {
      type: 'button', class: band ? `cell band-${band}` : 'cell', testid: planId(index, `cell-${cell}`),
      dataset: band ? { band } : {},
      'aria-label': `${clock(cell)}–${clock(cell + 1).replace('00:00', '24:00')}`,
      onmousedown: (event) => { event.preventDefault(); drag.on = true; paint(cell); },
      onmouseenter: () => { if (drag.on) paint(cell); },
      onclick: () => paint(cell),
    }));
    function paint(cell) {
      plan.cells[cell] = brush;
      const button = cellButtons[cell];
      button.className = `cell band-${brush}`;
      button.dataset.band = brush;
      button.title = `${button.getAttribute('aria-label')} ${t(`band_${brush}`)}`;
      show();
    }
    const toggle = (set, value) => (on) => {
      if (on) set.add(value);
      else set.delete(value);
      show();
    };
    const tools = [h('button', { type: 'button', testid: planId(index, 'fill-all'),
                                 onclick: () => plan.cells.forEach((_, cell) => paint(cell)) },
                     t('tariff_fill_all'))];
    if (index > 0) {
      tools.push(h('button', { type: 'button', testid: `tariff-plan-${index}-up`, onclick: () => {
        [plans[index - 1], plans[index]] = [plans[index], plans[index - 1]];
        renderPlans();
      } }, t('tv_move_up')));
    }
    if (plans.length > 1) {
      tools.push(h('button', { type: 'button', testid: `tariff-plan-${index}-remove`, onclick: () => {
        plans.splice(index, 1);
        renderPlans();
      } }, t('tv_remove_plan')));
    }
    return h('fieldset', { testid: `tariff-plan-${index}` },
      h('legend', {}, t('tv_plan', { n: index + 1 })),
      h('div', { class: 'inline' }, t('tv_day_types'),
        DAY_TYPES.map((day) => tick(`tariff-plan-${index}-day-${day}`, t(`day_${day}`),
                                    plan.dayTypes.has(day), toggle(plan.dayTypes, day)))),
      h('div', { class: 'inline' }, t('tv_months'),
        MONTHS.map((month) => tick(`tariff-plan-${index}-month-${month}`, t('tv_month', { m: month }),
                                   plan.months.has(month), toggle(plan.months, month)))),
      h('div', { class: 'cells', testid: planId(index, 'cells') }, cellButtons),
      hours(),
      h('div', { class: 'inline' }, tools));
  }
  function renderPlans() {
    plansBox.dataset.count = String(plans.length);
    plansBox.replaceChildren(...plans.map(planSection));
    show();
  }
  const addPlan = h('button', { type: 'button', testid: 'tariff-add-plan', onclick: () => {
    plans.push(blankPlan());
    renderPlans();
  } }, t('tv_add_plan'));

  /** The request body as drawn (whatever its faults: the JSON shows what would go). */
  function body() {
    const used = BANDS.filter((b) => plans.some((p) => p.cells.includes(b)));
    const prices = {};
    for (const band of used) {
      prices[band] = { energy: priceInputs[band].energy.value.trim(),
                       service: priceInputs[band].service.value.trim() };
    }
    const out = base ? {} : { tariff_id: tariffId.value.trim() };
    out.name = name.value.trim();
    if (base) out.time_zone = base.time_zone; // a new version keeps its tariff's zone
    out.effective_from = isoOf(from.value);
    if (until.value) out.effective_to = isoOf(until.value);
    out.prices = prices;
    out.plans = plans.map((plan) => {
      const stored = {};
      if (plan.months.size) stored.months = MONTHS.filter((m) => plan.months.has(m));
      if (plan.dayTypes.size) stored.day_types = DAY_TYPES.filter((d) => plan.dayTypes.has(d));
      stored.periods = periodsOf(plan.cells);
      return stored;
    });
    if (idlePerMinute.value.trim()) {
      out.idle_fee = { per_minute: idlePerMinute.value.trim(),
                       grace_minutes: Number(idleGrace.value || '0') };
      if (idleCap.value.trim()) out.idle_fee.cap = idleCap.value.trim();
    }
    if (sessionFee.value.trim()) out.session_fee = sessionFee.value.trim();
    return out;
  }
  function show() {
    json.textContent = JSON.stringify(body(), null, 2);
  }

  /** Every fault the console can see before sending, in words; empty when it may go. */
  function faults(draft) {
    const out = [];
    if (!base && !TARIFF_ID.test(draft.tariff_id)) out.push(t('tf_id'));
    if (!draft.name) out.push(t('tf_name'));
    if (!draft.effective_from) out.push(t('tf_from'));
    else if (draft.effective_to && draft.effective_to <= draft.effective_from) out.push(t('tv_fault_to'));
    plans.forEach((plan, index) => {
      const empty = plan.cells.map((band, i) => (band ? null : clock(i))).filter(Boolean);
      if (!empty.length) return;
      const fault = t('tf_cells', { n: empty.length, first: empty[0] });
      out.push(plans.length > 1 ? t('tv_plan_fault', { n: index + 1, fault }) : fault);
    });
    const gap = uncovered(plans);
    if (gap) out.push(t('tv_uncovered', { month: gap.month, day: t(`day_${gap.day}`) }));
    for (const [band, price] of Object.entries(draft.prices)) {
      for (const kind of ['energy', 'service']) {
        if (!PRICE.test(price[kind])) {
          out.push(t('tf_price', { band: t(`band_${band}`), kind: t(`kind_${kind}`) }));
        }
      }
    }
    if (draft.idle_fee) {
      if (!PRICE.test(draft.idle_fee.per_minute)) out.push(t('tf_idle_per_minute'));
      const grace = draft.idle_fee.grace_minutes;
      if (!Number.isInteger(grace) || grace < 0 || grace > 1440) out.push(t('tf_idle_grace'));
      if (draft.idle_fee.cap !== undefined && !FEE.test(draft.idle_fee.cap)) out.push(t('tf_idle_cap'));
    }
    if (draft.session_fee !== undefined && !FEE.test(draft.session_fee)) out.push(t('tv_fault_session_fee'));
    return out;
  }

  /** New tariff (null) or new version of `tariff`: the title, the id field, the button. */
  function setBase(tariff) {
    base = tariff;
    tariffId.disabled = Boolean(base);
    if (base) tariffId.value = base.tariff_id;
    title.textContent = base
      ? t('tv_editor_version', { id: base.tariff_id, version: base.version }) : t('tariff_new');
    submit.textContent = base ? t('tv_submit_version') : t('tariff_create');
    backToNew.hidden = !base;
    form.dataset.mode = base ? 'version' : 'new';
    show();
  }

  /** Load a tariff's version into the editor as the draft of its next version. */
  function draw(tariff) {
    const drawn = tariff.plans.map(planFrom);
    const bad = drawn.find((d) => d.edge);
    if (bad) {
      report('error', t('tv_not_drawable', { id: tariff.tariff_id, version: tariff.version, edge: bad.edge }),
             'tariff-error');
      form.scrollIntoView();
      return;
    }
    plans = drawn.map((d) => d.plan);
    name.value = tariff.name;
    for (const band of BANDS) {
      priceInputs[band].energy.value = tariff.prices[band]?.energy ?? '';
      priceInputs[band].service.value = tariff.prices[band]?.service ?? '';
    }
    idlePerMinute.value = tariff.idle_fee?.per_minute ?? '';
    idleGrace.value = String(tariff.idle_fee?.grace_minutes ?? 0);
    idleCap.value = tariff.idle_fee?.cap ?? '';
    sessionFee.value = tariff.session_fee && Number(tariff.session_fee) !== 0 ? tariff.session_fee : '';
    from.value = localOf(new Date().toISOString());
    until.value = '';
    setBase(tariff);
    renderPlans();
    report('ok', t('tv_version_loaded', { id: tariff.tariff_id, version: tariff.version }), 'tariff-loaded');
    form.scrollIntoView();
  }

  const send = async (event) => {
    event.preventDefault();
    report('pending', t('loading'), 'tariff-pending');
    const draft = body();
    const found = faults(draft);
    if (found.length) {
      report('error', t('tf_fix', { list: found.join(t('list_separator')) }), 'tariff-error');
      return;
    }
    submit.disabled = true;
    try {
      if (base) {
        const answer = await call('POST', `${tariffPath(base.tariff_id)}/versions`, draft, 'tariff');
        await reload();
        setBase(answer);
        report('ok', t('tv_version_created', { id: answer.tariff_id, version: answer.version,
                                              from: when(answer.effective_from) }), 'tariff-answer');
      } else {
        const answer = await call('POST', '/api/v1/tariffs', draft, 'tariff');
        await reload();
        report('ok', t('tariff_created', { id: answer.tariff_id, version: answer.version }), 'tariff-answer');
      }
    } catch (error) {
      problem(error);
    } finally {
      submit.disabled = false;
    }
  };
  const form = h('form', { class: 'card', testid: 'tariff-editor', onsubmit: send, oninput: show, onchange: show },
    title,
    h('div', { class: 'inline' },
      h('label', {}, t('tariff_id'), tariffId),
      h('label', {}, t('tariff_name'), name),
      h('label', {}, t('tariff_from'), from),
      h('label', {}, t('tv_effective_to'), until),
      backToNew),
    h('p', { class: 'muted' }, t('tariff_bands_help')),
    h('table', { class: 'prices' },
      h('thead', {}, h('tr', {}, h('th', {}, t('tariff_band')), h('th', {}, t('energy_price')),
                       h('th', {}, t('service_price')))),
      h('tbody', {}, bandRows)),
    h('p', { class: 'muted' }, t('tv_plans_help')),
    plansBox,
    h('div', { class: 'inline' }, addPlan),
    h('h3', {}, t('tariff_idle_title')),
    h('div', { class: 'inline' },
      h('label', {}, t('idle_per_minute'), idlePerMinute),
      h('label', {}, t('idle_grace'), idleGrace),
      h('label', {}, t('idle_cap'), idleCap),
      h('label', {}, t('tv_session_fee'), sessionFee)),
    h('details', { testid: 'tariff-json-details' }, h('summary', {}, t('tariff_json')), json),
    submit,
    result);
  form.dataset.mode = 'new';
  renderPlans();
  return { form, draw };
}

// --- assignments ------------------------------------------------------------------------------

/**
 * Where tariffs bill: the list (GET /tariff-assignments), and for operators a form to add one
 * and a delete with a confirm step. `update(tariffs, rows)` redraws it after every load.
 */
function assignmentSection(mayWrite, session, failed, reload) {
  const result = h('div', { class: 'result', testid: 'assign-result', role: 'status' });
  const line = resultLine(result, session, failed, 'assign-error');
  const { report, problem } = line;
  const list = h('div', { testid: 'assignments' });
  const tariff = h('select', { testid: 'assign-tariff' });
  const scope = h('select', { testid: 'assign-scope' },
    SCOPES.map((s) => h('option', { value: s }, t(`scope_${s}`))));
  const target = h('input', { testid: 'assign-target', autocomplete: 'off', maxlength: '200', disabled: true,
                              list: 'assign-targets' });
  const targets = h('datalist', { id: 'assign-targets', testid: 'assign-targets' });
  const known = { station: [], site: [], owner: [], network: [] }; // suggestions per scope
  const suggest = () => targets.replaceChildren(...known[scope.value].map(
    ([value, label]) => h('option', { value }, label)));
  scope.addEventListener('change', () => {
    target.disabled = scope.value === 'network';
    if (target.disabled) target.value = '';
    suggest();
  });
  /** The stations, sites and owner units to suggest as targets (typing any works as well). */
  const prime = async () => {
    const [stations, sites, units] = await Promise.all([
      call('GET', '/api/v1/stations?limit=1000'), call('GET', '/api/v1/sites'), call('GET', '/api/v1/units')]);
    known.station = stations.map((st) => [st.id, st.site_name ?? '']);
    known.site = sites.map((site) => [site.site_name, t('ta_site_stations', { n: site.stations })]);
    known.owner = units.map((unit) => [unit.unit_id, unit.name]);
    suggest();
  };
  const audience = h('select', { testid: 'assign-audience' },
    AUDIENCES.map((a) => h('option', { value: a }, t(`audience_${a}`))));
  const from = h('input', { type: 'datetime-local', testid: 'assign-from',
                            value: localOf(new Date().toISOString()) });
  const until = h('input', { type: 'datetime-local', testid: 'assign-to' });

  const write = writer(line, { context: 'tariff', reload,
                               answerTestid: 'assign-answer' });
  const submit = h('button', { type: 'submit', class: 'primary', testid: 'assign-submit' }, t('ta_submit'));
  const create = (event) => {
    event.preventDefault();
    const target_ = target.value.trim();
    if (!tariff.value) return report('error', t('ta_need_tariff'), 'assign-error');
    if (scope.value !== 'network' && !target_) return report('error', t('ta_need_target'), 'assign-error');
    if (!from.value) return report('error', t('ta_need_from'), 'assign-error');
    if (until.value && isoOf(until.value) <= isoOf(from.value)) {
      return report('error', t('tf_fix', { list: t('tv_fault_to') }), 'assign-error');
    }
    const body = { tariff_id: tariff.value, scope: scope.value, target: target_,
                   audience: audience.value, effective_from: isoOf(from.value) };
    if (until.value) body.effective_to = isoOf(until.value);
    return write('POST', '/api/v1/tariff-assignments', body, (made) => t('ta_created', {
      tariff: made.tariff_id, id: made.id, scope: t(`scope_${made.scope}`),
      target: made.target ? ` ${made.target}` : '' }), submit);
  };

  const row = (a) => {
    const cells = [
      h('td', {}, String(a.id)),
      h('td', {}, a.tariff_id),
      h('td', {}, t(`scope_${a.scope}`)),
      h('td', {}, a.target || '–'),
      h('td', {}, t(`audience_${a.audience}`)),
      h('td', {}, when(a.effective_from)),
      h('td', {}, when(a.effective_to)),
      h('td', {}, a.created_by ?? '–'),
    ];
    if (mayWrite) {
      const remove = h('button', { type: 'button', class: 'danger', testid: `assignment-delete-${a.id}` },
                       t('delete'));
      const confirm = h('span', { class: 'inline', testid: `assignment-confirm-${a.id}`, hidden: true },
        t('ta_delete_confirm', { id: a.id }),
        h('button', { type: 'button', class: 'danger', testid: `assignment-delete-yes-${a.id}`,
                      onclick: (event) => write('DELETE', `/api/v1/tariff-assignments/${a.id}`, undefined,
                                                () => t('ta_deleted', { id: a.id }), event.target) },
          t('delete_yes')),
        h('button', { type: 'button', testid: `assignment-delete-no-${a.id}`,
                      onclick: () => { confirm.hidden = true; remove.hidden = false; } }, t('cancel')));
      remove.addEventListener('click', () => { confirm.hidden = false; remove.hidden = true; });
      cells.push(h('td', {}, h('div', { class: 'inline' }, remove, confirm)));
    }
    return h('tr', { testid: `assignment-${a.id}` }, cells);
  };

  const update = (tariffs, rows) => {
    const chosen = tariff.value;
    tariff.replaceChildren(...tariffs.map((tf) => h('option', { value: tf.tariff_id }, `${tf.tariff_id} · ${tf.name}`)));
    if (tariffs.some((tf) => tf.tariff_id === chosen)) tariff.value = chosen;
    list.dataset.count = String(rows.length);
    const headers = [t('ta_col_id'), t('ta_col_tariff'), t('ta_col_scope'), t('ta_col_target'),
                     t('ta_col_audience'), t('tv_col_from'), t('tv_col_to'), t('tv_col_by')];
    if (mayWrite) headers.push(t('col_actions'));
    list.replaceChildren(rows.length === 0
      ? h('p', { class: 'muted', testid: 'assignments-empty' }, t('ta_none'))
      : table('assignments-table', headers, rows.map(row)));
  };

  const element = h('section', { testid: 'tariff-assignments' },
    h('h2', {}, t('ta_title')),
    h('p', { class: 'muted' }, t('ta_intro')),
    list,
    mayWrite
      ? h('form', { class: 'card inline', testid: 'assign-form', onsubmit: create },
        h('label', {}, t('ta_col_tariff'), tariff),
        h('label', {}, t('ta_col_scope'), scope),
        h('label', {}, t('ta_target'), target, targets),
        h('label', {}, t('ta_col_audience'), audience),
        h('label', {}, t('tariff_from'), from),
        h('label', {}, t('tv_effective_to'), until),
        submit)
      : null,
    result);
  return { element, update, prime: mayWrite ? prime : async () => {} };
}

/** What a session would cost under a tariff, as the API prices it (its quote route). */
function preview(tariffs, problem) {
  const choice = h('select', { testid: 'preview-tariff' },
    ...tariffs.map((tf) => h('option', { value: tf.tariff_id }, `${tf.tariff_id} · ${tf.name}`)));
  const start = h('input', { type: 'datetime-local', testid: 'preview-start' });
  const end = h('input', { type: 'datetime-local', testid: 'preview-end' });
  const energy = h('input', { type: 'text', inputmode: 'decimal', testid: 'preview-kwh', value: '20' });
  const freed = h('input', { type: 'datetime-local', testid: 'preview-occupied' });
  const out = h('div', { testid: 'preview-result' });
  const send = async (event) => {
    event.preventDefault();
    if (!start.value || !end.value) {
      out.replaceChildren(h('p', { class: 'error', testid: 'preview-problem' }, t('preview_need_times')));
      return;
    }
    const body = { start: isoOf(start.value), end: isoOf(end.value), energy_kwh: energy.value.trim() };
    if (freed.value) body.occupied_until = isoOf(freed.value);
    try {
      const quote = await call('POST', `/api/v1/tariffs/${encodeURIComponent(choice.value)}/quote`, body);
      const lines = quote.lines.map((line) => h('tr', {},
        h('td', {}, t(`band_${line.band}`)),
        h('td', {}, `${when(line.start)} – ${when(line.end)}`),
        h('td', {}, line.energy_kwh),
        h('td', {}, line.energy_money),
        h('td', {}, line.service_money)));
      out.replaceChildren(
        h('p', { testid: 'preview-total', dataset: { total: quote.total } },
          t('preview_total', { total: quote.total, energy: quote.energy_money,
                               service: quote.service_money, idle: quote.idle_fee })),
        h('table', { testid: 'preview-lines' },
          h('thead', {}, h('tr', {}, ...['preview_band', 'preview_span', 'preview_kwh',
            'preview_energy', 'preview_service'].map((k) => h('th', {}, t(k))))),
          h('tbody', {}, ...lines)));
    } catch (error) {
      out.replaceChildren();
      problem(error);
    }
  };
  return h('section', { testid: 'tariff-preview' },
    h('h2', {}, t('preview_title')),
    h('p', { class: 'muted' }, t('preview_intro')),
    h('form', { class: 'filters', testid: 'preview-form', onsubmit: send },
      h('label', {}, t('preview_tariff'), choice),
      h('label', {}, t('preview_start'), start),
      h('label', {}, t('preview_end'), end),
      h('label', {}, t('preview_energy_kwh'), energy),
      h('label', {}, t('preview_occupied'), freed),
      h('button', { type: 'submit', class: 'primary', testid: 'preview-submit' }, t('preview_submit'))),
    out);
}

export async function tariffsPage(view, session, isCurrent, failed) {
  const mayWrite = session.role !== 'viewer';
  const result = h('div', { class: 'result', testid: 'tariff-result', role: 'status' });
  const list = h('div', { testid: 'tariffs' });
  const { report, problem } = resultLine(result, session, failed, 'tariff-error');
  const previewSlot = h('div', {});
  let load = null;
  const draft = mayWrite ? editor(result, report, problem, () => load()) : null;
  const assigned = assignmentSection(mayWrite, session, failed, () => load());
  load = async () => {
    const [tariffs, assignments] = await Promise.all([
      call('GET', '/api/v1/tariffs?limit=1000'),
      call('GET', '/api/v1/tariff-assignments'),
    ]);
    if (!isCurrent()) return;
    list.dataset.count = String(tariffs.length);
    list.replaceChildren(...(tariffs.length === 0
      ? [h('p', { class: 'muted', testid: 'tariffs-empty' }, t('no_tariffs'))]
      : tariffs.map((tariff) => tariffCard(tariff, assignments, problem, draft?.draw))));
    assigned.update(tariffs, assignments);
    previewSlot.replaceChildren(...(tariffs.length ? [preview(tariffs, problem)] : []));
  };
  const sections = [
    h('h1', {}, t('tariffs_title')),
    h('p', { class: 'muted' }, t('tariffs_intro')),
    list,
    assigned.element,
    // the editor holds the result line; a viewer's (versions, preview) stands alone
    draft ? draft.form : [h('p', { class: 'muted', testid: 'tariffs-viewer' }, t('tariffs_viewer')), result],
    previewSlot,
  ];
  await Promise.all([load(), assigned.prime()]);
  if (!isCurrent()) return;
  view.replaceChildren(...sections.flat());
}
