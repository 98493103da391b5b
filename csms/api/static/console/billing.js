/*
 * Billing (账单结算, #/billing): the charge detail records of the whole network, the check of
 * their hash chains, and the settlement statement.
 *
 * - CDRs (GET /api/v1/cdrs): newest first, 50 a page, filtered by station, operator and stop
 *   time; bills, credits and re-bills are records of their own, each linking to its session's
 *   bill (#/transactions/<id>, where operators credit and re-bill).
 * - Chain check (GET /api/v1/cdrs/verify, admins): every operator's chain re-hashed; the page
 *   says whether all hold and, for a broken one, where (the API's problems, verbatim).
 * - Settlement (GET /api/v1/settlement): local days from..to, per day or month and per
 *   operator, site or owner unit; the rows, totals and reconciliation shown in the page, and
 *   the same statement saved as a CSV or JSON file (fetched with the session cookie, so an
 *   error is explained here rather than saved as a file).
 *
 * Money is shown exactly as the API gives it (text to the fen); the console adds up nothing.
 */

import { ApiError, call, explain } from './api.js';
import { h, isoOf, pager, table } from './dom.js';
import { addWords, t, when } from './i18n.js';
import { word } from './transactions.js'; // the words of CDR kinds and metering verdicts

addWords({
  zh: {
    nav_billing: '账单结算',
    billing_title: '账单结算',
    bl_cdrs_title: '结算单据（CDR）',
    bl_cdrs_help: '每次充电结束后生成的单据，最新的在前；冲正和重新开票也是单独的单据。点击充电记录编号可查看该次充电的账单并冲正或重新开票。',
    bl_operator: '运营商编号',
    bl_stopped_since: '结束时间自',
    bl_stopped_until: '结束时间至',
    bl_col_cdr: 'CDR',
    bl_col_kind: '类型',
    bl_col_corrects: '更正',
    bl_col_operator: '运营商',
    bl_col_verdict: '计量结论',
    bl_col_total: '合计（元）',
    bl_no_cdrs: '没有符合条件的单据。',
    bl_verify_title: '单据链校验',
    bl_verify_help: '每个运营商的单据按顺序以哈希相连；重新计算哈希可以发现被修改、删除或调换顺序的单据。会读取全部单据，因此仅限管理员。',
    bl_verify_admin_only: '单据链校验需要管理员账号；如需校验，请联系管理员。',
    bl_verify: '校验单据链',
    bl_verify_ok: '全部 {chains} 条单据链完好（共 {records} 条单据）。',
    bl_verify_none: '还没有任何单据，无需校验。',
    bl_verify_broken: '有单据链被破坏：请勿据此结算，立即联系管理员，按下列位置与数据库备份核对。',
    bl_col_chain: '运营商',
    bl_col_records: '单据数',
    bl_col_chain_state: '状态',
    bl_col_problems: '问题位置',
    bl_chain_ok: '完好',
    bl_chain_broken: '被破坏',
    bl_settle_title: '结算报表',
    bl_settle_help: '按充电结束的本地日期（{zone}）汇总次数、电量和金额；冲正记为负数。“核对”一栏说明合计是否与单据逐条相加一致。',
    bl_since: '起始日期',
    bl_until: '截止日期（含）',
    bl_period: '汇总周期',
    bl_period_day: '按日',
    bl_period_month: '按月',
    bl_group: '分组',
    bl_group_operator: '按运营商',
    bl_group_site: '按站点',
    bl_group_owner: '按产权单位',
    bl_show: '查看',
    bl_csv: '下载 CSV',
    bl_json: '下载 JSON',
    bl_need_days: '请填写起始日期和截止日期。',
    bl_days_order: '截止日期早于起始日期，请调换后重试。',
    bl_col_period: '周期',
    bl_col_key: '分组',
    bl_col_sessions: '充电次数',
    bl_col_credits: '冲正',
    bl_col_rebills: '重新开票',
    bl_col_kwh: '电量（kWh）',
    bl_col_energy: '电费（元）',
    bl_col_service: '服务费（元）',
    bl_col_idle: '占位费（元）',
    bl_col_session_fees: '单次费用（元）',
    bl_totals: '合计',
    bl_no_rows: '该期间没有单据。',
    bl_balanced: '核对一致：报表合计 {total} 元，等于 {records} 条单据逐条相加的 {cdr_total} 元。',
    bl_unbalanced: '核对不一致：报表合计 {total} 元，单据相加 {cdr_total} 元，{bad} 条单据明细与金额不符。请勿据此结算，先运行单据链校验并联系管理员。',
    bl_checks: '另有：{review} 次充电待复核，{unaccounted} 次已结束但既无账单也无复核，{refused} 次被拒绝的启动（不计费）。',
    bl_downloaded: '已下载 {file}。',
    bl_save_again: '再次保存 {file}',
    bl_unnamed: '未填写',
    bl_col_created_by: '生成者',
    bl_csms_zone: 'CSMS 所在时区',
  },
  en: {
    nav_billing: 'Billing',
    billing_title: 'Billing',
    bl_cdrs_title: 'Charge detail records (CDRs)',
    bl_cdrs_help: 'The record filed when a session ends, newest first; credits and re-bills are records of their own. Click a transaction number to open its bill, where it can be credited or re-billed.',
    bl_operator: 'Operator id',
    bl_stopped_since: 'Stopped from',
    bl_stopped_until: 'Stopped before',
    bl_col_cdr: 'CDR',
    bl_col_kind: 'Kind',
    bl_col_corrects: 'Corrects',
    bl_col_operator: 'Operator',
    bl_col_verdict: 'Metering',
    bl_col_total: 'Total (CNY)',
    bl_no_cdrs: 'No CDRs match.',
    bl_verify_title: 'CDR chain check',
    bl_verify_help: 'Each operator\'s CDRs are chained by hashes; hashing them again shows a record that was edited, removed or reordered. It reads every record, so it is for admins.',
    bl_verify_admin_only: 'The chain check needs an admin account; ask an administrator to run it.',
    bl_verify: 'Check the chains',
    bl_verify_ok: 'All {chains} chains hold ({records} records).',
    bl_verify_none: 'There are no CDRs yet: nothing to check.',
    bl_verify_broken: 'A chain is broken: do not settle on these records; tell an administrator now and compare the places below with a database backup.',
    bl_col_chain: 'Operator',
    bl_col_records: 'Records',
    bl_col_chain_state: 'State',
    bl_col_problems: 'Where it breaks',
    bl_chain_ok: 'holds',
    bl_chain_broken: 'broken',
    bl_settle_title: 'Settlement statement',
    bl_settle_help: 'Sessions, energy and money per local day a session ended ({zone}); credits count negative. The reconciliation line says whether the totals equal the CDRs added one by one.',
    bl_since: 'First day',
    bl_until: 'Last day (inclusive)',
    bl_period: 'Period',
    bl_period_day: 'per day',
    bl_period_month: 'per month',
    bl_group: 'Group',
    bl_group_operator: 'per operator',
    bl_group_site: 'per site',
    bl_group_owner: 'per owner unit',
    bl_show: 'Show',
    bl_csv: 'Download CSV',
    bl_json: 'Download JSON',
    bl_need_days: 'Enter the first and the last day.',
    bl_days_order: 'The last day is before the first: swap them and try again.',
    bl_col_period: 'Period',
    bl_col_key: 'Group',
    bl_col_sessions: 'Sessions',
    bl_col_credits: 'Credits',
    bl_col_rebills: 'Re-bills',
    bl_col_kwh: 'Energy (kWh)',
    bl_col_energy: 'Electricity (CNY)',
    bl_col_service: 'Service (CNY)',
    bl_col_idle: 'Idle fees (CNY)',
    bl_col_session_fees: 'Session fees (CNY)',
    bl_totals: 'Total',
    bl_no_rows: 'No CDRs in this period.',
    bl_balanced: 'Reconciled: the statement total {total} CNY equals the {records} CDRs added one by one ({cdr_total} CNY).',
    bl_unbalanced: 'Does not reconcile: statement {total} CNY, CDRs {cdr_total} CNY, {bad} CDRs whose lines do not add up. Do not settle on it: run the chain check and tell an administrator.',
    bl_checks: 'Also: {review} sessions await review, {unaccounted} ended sessions have neither a bill nor a review, {refused} refused starts (never billed).',
    bl_downloaded: 'Downloaded {file}.',
    bl_save_again: 'Save {file} again',
    bl_unnamed: 'none',
    bl_col_created_by: 'Filed by',
    bl_csms_zone: 'the CSMS\'s time zone',
  },
});

const PAGE = 50;
const SETTLE_MONEY = ['energy_money', 'service_money', 'idle_money', 'session_fees', 'total'];
const filters = { station: '', operator: '', since: '', until: '', offset: 0 }; // while open

/** Explain a failure in `box` (or hand an ended session back to the sign-in form). */
function showProblem(box, testid, session, failed) {
  return (error) => {
    if (error instanceof ApiError && error.sessionEnded) {
      failed(error);
      return;
    }
    box.dataset.status = 'error';
    box.replaceChildren(h('p', { class: 'result', testid, dataset: { status: 'error' } },
                          explain(error, session.scope)));
  };
}

// --- CDR list ---------------------------------------------------------------------------------

async function cdrSection(box, session, isCurrent, failed) {
  const input = (testid, value, placeholder, type = 'search') =>
    h('input', { type, testid, value, placeholder, autocomplete: 'off' });
  const station = input('cdr-filter-station', filters.station, t('station_id'));
  const operator = input('cdr-filter-operator', filters.operator, t('bl_operator'));
  const since = input('cdr-filter-since', filters.since, '', 'datetime-local');
  const until = input('cdr-filter-until', filters.until, '', 'datetime-local');
  const results = h('div', { testid: 'cdrs' });

  let asked = 0;
  const load = async (offset) => {
    Object.assign(filters, { station: station.value.trim(), operator: operator.value.trim(),
                             since: since.value, until: until.value, offset });
    const query = new URLSearchParams({ limit: String(PAGE + 1), offset: String(offset) });
    if (filters.station) query.set('station_id', filters.station);
    if (filters.operator) query.set('operator_id', filters.operator);
    if (filters.since) query.set('since', isoOf(filters.since));
    if (filters.until) query.set('until', isoOf(filters.until));
    const mine = ++asked;
    const rows = await call('GET', `/api/v1/cdrs?${query}`);
    if (mine !== asked || !isCurrent()) return;
    const shown = rows.slice(0, PAGE);
    results.dataset.count = String(shown.length);
    delete results.dataset.status;
    results.replaceChildren(
      shown.length === 0
        ? h('p', { class: 'muted', testid: 'cdrs-empty' }, t('bl_no_cdrs'))
        : table('cdr-table',
          [t('bl_col_cdr'), t('bl_col_kind'), t('bl_col_corrects'), t('col_tx'), t('col_station'),
           t('bl_col_operator'), t('col_stopped'), t('col_energy'), t('bl_col_total'),
           t('bl_col_verdict'), t('bl_col_created_by')],
          shown.map((c) => h('tr', { testid: `cdr-row-${c.id}`, dataset: { kind: c.kind } },
            h('td', {}, String(c.id)),
            h('td', {}, word('tb_kind_', c.kind)),
            h('td', {}, c.corrects ? String(c.corrects) : '–'),
            h('td', {}, h('a', { href: `#/transactions/${c.transaction_id}`,
                                 testid: `cdr-row-${c.id}-tx` }, String(c.transaction_id))),
            h('td', {}, h('a', { href: `#/stations/${encodeURIComponent(c.station_id)}` },
                          c.station_id)),
            h('td', {}, c.operator_id ?? '–'),
            h('td', {}, when(c.stopped_at)),
            h('td', {}, c.energy_kwh),
            h('td', { testid: `cdr-row-${c.id}-total` }, c.total),
            h('td', {}, word('tb_verdict_', c.verdict)),
            h('td', {}, c.created_by ?? '–')))),
      pager('cdr-pager', offset, PAGE, rows.length > PAGE, (next) => refresh(next),
            { prev: t('previous'), next: t('next'),
              page: t('page_rows', { from: offset + 1, to: offset + shown.length }) }),
    );
  };
  const refresh = (offset = 0) =>
    load(offset).catch(showProblem(results, 'cdrs-error', session, failed));
  const form = h('form', { class: 'card inline', testid: 'cdr-filters',
                           onsubmit: (event) => { event.preventDefault(); refresh(0); } },
    h('label', {}, t('station_id'), station),
    h('label', {}, t('bl_operator'), operator),
    h('label', {}, t('bl_stopped_since'), since),
    h('label', {}, t('bl_stopped_until'), until),
    h('button', { type: 'submit', class: 'primary', testid: 'cdr-apply' }, t('apply')));
  box.replaceChildren(h('h2', {}, t('bl_cdrs_title')),
                      h('p', { class: 'muted' }, t('bl_cdrs_help')), form, results);
  await refresh(filters.offset);
}

// --- chain check ------------------------------------------------------------------------------

function verifyAnswer(answer) {
  const records = answer.chains.reduce((n, c) => n + c.records, 0); // a count, not money
  if (answer.chains.length === 0) return h('p', { testid: 'verify-answer' }, t('bl_verify_none'));
  return [
    h('p', { testid: 'verify-answer' }, answer.ok
      ? t('bl_verify_ok', { chains: answer.chains.length, records })
      : t('bl_verify_broken')),
    table('verify-table',
      [t('bl_col_chain'), t('bl_col_records'), t('bl_col_chain_state'), t('bl_col_problems')],
      answer.chains.map((c) => h('tr', { testid: `chain-${c.operator_id}`,
                                         dataset: { ok: String(c.ok) } },
        h('td', {}, c.operator_id),
        h('td', {}, String(c.records)),
        h('td', { class: c.ok ? 'online' : 'offline' }, c.ok ? t('bl_chain_ok') : t('bl_chain_broken')),
        h('td', {}, c.problems.length
          ? h('ul', {}, c.problems.map((p) => h('li', {}, p))) : '–')))),
  ];
}

function verifySection(box, session, failed) {
  const isAdmin = session.role === 'admin';
  const result = h('div', { class: 'result', testid: 'verify-result', role: 'status' });
  const run = h('button', { type: 'button', class: 'primary', testid: 'verify-run' }, t('bl_verify'));
  run.addEventListener('click', async () => {
    run.disabled = true;
    result.dataset.status = 'sending';
    result.replaceChildren(t('loading'));
    try {
      const answer = await call('GET', '/api/v1/cdrs/verify');
      result.dataset.status = answer.ok ? 'ok' : 'error';
      result.replaceChildren(h('div', {}, verifyAnswer(answer)));
    } catch (error) {
      showProblem(result, 'verify-error', session, failed)(error);
    } finally {
      run.disabled = false;
    }
  });
  box.replaceChildren(
    h('h2', {}, t('bl_verify_title')),
    h('p', { class: 'muted' }, t('bl_verify_help')),
    isAdmin ? h('div', { class: 'inline' }, run)
      : h('p', { class: 'muted', testid: 'verify-admin-only' }, t('bl_verify_admin_only')),
    result);
}

// --- settlement -------------------------------------------------------------------------------

/** A day as YYYY-MM-DD in the browser's zone (only the form's starting values). */
function dayOf(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The statement's file: fetched with the session cookie; an error is explained, not saved. */
async function fetchFile(path) {
  let response;
  try {
    response = await fetch(path, { credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, null, '');
  }
  const text = await response.text();
  if (!response.ok) {
    let data = null;
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
    const error = new ApiError(response.status, data, '');
    error.retryAfter = response.headers.get('Retry-After');
    throw error;
  }
  return { text, type: response.headers.get('Content-Type') ?? 'application/octet-stream' };
}

function statementTable(statement) {
  const headers = [t('bl_col_period'), t('bl_col_operator'), t('bl_col_key'), t('bl_col_sessions'),
                   t('bl_col_credits'), t('bl_col_rebills'), t('bl_col_kwh'), t('bl_col_energy'),
                   t('bl_col_service'), t('bl_col_idle'), t('bl_col_session_fees'), t('bl_col_total')];
  const figures = (row, prefix) => [
    h('td', {}, String(row.sessions)), h('td', {}, String(row.credits)),
    h('td', {}, String(row.rebills)), h('td', { testid: `${prefix}-kwh` }, row.energy_kwh),
    SETTLE_MONEY.map((name) => h('td', { testid: `${prefix}-${name}` }, row[name])),
  ];
  const rows = statement.rows.map((row, i) => h('tr', { testid: `settle-row-${i}` },
    h('td', {}, row.period), h('td', {}, row.operator_id ?? '–'),
    h('td', {}, row.key ?? t('bl_unnamed')), figures(row, `settle-row-${i}`)));
  rows.push(h('tr', { testid: 'settle-totals' },
    h('th', { colspan: '3' }, t('bl_totals')), figures(statement.totals, 'settle-totals')));
  return table('settle-table', headers, rows);
}

function reconciliation(r) {
  return [
    h('p', { testid: 'settle-balanced', class: 'result',
             dataset: { balanced: String(r.balanced), status: r.balanced ? 'ok' : 'error' } },
      r.balanced
        ? t('bl_balanced', { total: r.statement_total, records: r.cdr_records, cdr_total: r.cdr_total })
        : t('bl_unbalanced', { total: r.statement_total, cdr_total: r.cdr_total,
                               bad: r.cdrs_not_adding_up })),
    h('p', { class: 'muted', testid: 'settle-checks' },
      t('bl_checks', { review: r.sessions_in_review, unaccounted: r.sessions_unaccounted,
                       refused: r.sessions_refused })),
  ];
}

function settlementSection(box, session, failed) {
  const today = new Date();
  const since = h('input', { type: 'date', testid: 'settle-since',
                             value: dayOf(new Date(today.getFullYear(), today.getMonth(), 1)) });
  const until = h('input', { type: 'date', testid: 'settle-until', value: dayOf(today) });
  const select = (testid, name, values) => h('select', { testid },
    values.map((v) => h('option', { value: v }, t(`bl_${name}_${v}`))));
  const period = select('settle-period', 'period', ['day', 'month']);
  const group = select('settle-group', 'group', ['operator', 'site', 'owner']);
  const help = h('p', { class: 'muted', testid: 'settle-help' },
                  t('bl_settle_help', { zone: t('bl_csms_zone') }));
  const result = h('div', { class: 'result', testid: 'settle-result', role: 'status' });
  const output = h('div', { testid: 'settle' });
  const saved = h('p', { testid: 'settle-saved' });

  const query = (format) => new URLSearchParams({ since: since.value, until: until.value,
                                                  period: period.value, group: group.value, format });
  const checked = () => {
    const fault = !since.value || !until.value ? t('bl_need_days')
      : until.value < since.value ? t('bl_days_order') : null; // YYYY-MM-DD sorts as text
    result.dataset.status = fault ? 'error' : '';
    result.replaceChildren(fault ? h('p', { testid: 'settle-error' }, fault) : '');
    return !fault;
  };
  const problem = showProblem(result, 'settle-error', session, failed);

  const show = async () => {
    if (!checked()) return;
    result.dataset.status = 'sending';
    result.replaceChildren(t('loading'));
    try {
      const statement = await call('GET', `/api/v1/settlement?${query('json')}`);
      help.replaceChildren(t('bl_settle_help', { zone: statement.time_zone }));
      output.dataset.rows = String(statement.rows.length);
      output.replaceChildren(h('div', {}, // h() flattens and drops the absent parts
        statement.rows.length === 0 ? h('p', { class: 'muted', testid: 'settle-empty' }, t('bl_no_rows')) : null,
        statementTable(statement),
        reconciliation(statement.reconciliation)));
      result.dataset.status = 'ok';
      result.replaceChildren();
    } catch (error) {
      problem(error);
    }
  };

  const download = async (format, button) => {
    if (!checked()) return;
    button.disabled = true;
    try {
      const q = query(format);
      const file = await fetchFile(`/api/v1/settlement?${q}`);
      const name = `settlement-${q.get('group')}-${q.get('period')}-${q.get('since')}-${q.get('until')}.${format}`;
      const url = URL.createObjectURL(new Blob([file.text], { type: file.type }));
      const link = h('a', { href: url, download: name, testid: 'settle-file',
                            dataset: { format } }, t('bl_save_again', { file: name }));
      saved.replaceChildren(t('bl_downloaded', { file: name }), ' ', link);
      link.click(); // the browser saves it; the link stays for saving it again
    } catch (error) {
      problem(error);
    } finally {
      button.disabled = false;
    }
  };
  const csv = h('button', { type: 'button', testid: 'settle-csv' }, t('bl_csv'));
  const json = h('button', { type: 'button', testid: 'settle-json' }, t('bl_json'));
  csv.addEventListener('click', () => download('csv', csv));
  json.addEventListener('click', () => download('json', json));

  const form = h('form', { class: 'card inline', testid: 'settle-form',
                           onsubmit: (event) => { event.preventDefault(); show(); } },
    h('label', {}, t('bl_since'), since),
    h('label', {}, t('bl_until'), until),
    h('label', {}, t('bl_period'), period),
    h('label', {}, t('bl_group'), group),
    h('button', { type: 'submit', class: 'primary', testid: 'settle-show' }, t('bl_show')),
    csv, json);
  box.replaceChildren(h('h2', {}, t('bl_settle_title')), help, form, result, saved, output);
}

export async function billingPage(view, session, isCurrent, failed) {
  const cdrBox = h('section', { testid: 'cdr-section' });
  const verifyBox = h('section', { testid: 'verify-section' });
  const settleBox = h('section', { testid: 'settle-section' });
  verifySection(verifyBox, session, failed);
  settlementSection(settleBox, session, failed);
  await cdrSection(cdrBox, session, isCurrent, failed);
  if (!isCurrent()) return;
  view.replaceChildren(h('h1', {}, t('billing_title')), cdrBox, settleBox, verifyBox);
}
