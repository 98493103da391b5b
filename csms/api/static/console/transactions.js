/*
 * Transactions across the stations the account may see (filters: station, status, refused,
 * start time; 50 a page) and the billing review queue: sessions held instead of billed, which
 * an operator approves (bill as the data stands) or voids (never bill), each with a note.
 *
 * #/transactions/<id> is one session's bill (GET /api/v1/transactions/{id}/bill): the running
 * cost while it is open, then its CDRs line by line (band, kWh, electricity and service money,
 * idle fee, totals as the API gives them: the console adds up no money). CDRs are never edited:
 * an operator credits one (a record negating it, with a reason, after a confirm step) or
 * re-bills the session (a credit of the standing bill plus a new bill, optionally by another
 * tariff version), and the page shows the records the API filed.
 */

import { ApiError, call, explain } from './api.js';
import { h, isoOf, pager, table } from './dom.js';
import { addWords, t, when } from './i18n.js';

addWords({
  zh: {
    tb_bill: '账单',
    tb_title: '充电记录 {id} 的账单',
    tb_back: '返回充电记录',
    tb_balance: '应收合计',
    tb_no_cdr: '尚未开票',
    tb_cny: '{amount} 元',
    tb_metering: '计量校验',
    tb_review: '人工复核',
    tb_review_state: '{status}（{cause}）',
    tb_open_hint: '充电尚未结束：结束后按其开始时生效的电价自动开票。下面是目前的费用。',
    tb_running: '当前费用',
    tb_held_hint: '该记录未自动开票，正在等待人工复核：请在“充电记录”页下方的复核队列中开票或作废。',
    tb_unbilled_hint: '该记录没有账单（如被拒绝的启动或已作废的复核）。',
    tb_cdrs: '结算单据（CDR）',
    tb_cdr_title: 'CDR {id} · {kind}',
    tb_kind_bill: '账单',
    tb_kind_credit: '冲正',
    tb_kind_rebill: '重新开票',
    tb_corrects: '冲正/更正 CDR {id}',
    tb_credited_by: '已被 CDR {id} 冲正',
    tb_created: '{by} 于 {at} 生成',
    tb_tariff: '电价',
    tb_tariff_value: '{id} 第 {version} 版',
    tb_verdict: '计量结论',
    tb_verdict_valid: '有效',
    tb_verdict_flagged: '有疑点（已开票）',
    tb_verdict_rejected: '不通过',
    tb_reasons: '疑点',
    tb_note: '说明',
    tb_energy: '电量（kWh）',
    tb_energy_money: '电费',
    tb_service_money: '服务费',
    tb_idle: '占位费（{minutes} 分钟）',
    tb_session_fee: '单次费用',
    tb_total: '合计',
    tb_col_band: '时段',
    tb_col_span: '时间',
    tb_col_kwh: '电量（kWh）',
    tb_col_prices: '单价（电费 + 服务费，元/kWh）',
    tb_col_energy_money: '电费（元）',
    tb_col_service_money: '服务费（元）',
    tb_no_lines: '无分时段明细。',
    tb_credit: '冲正…',
    tb_credit_reason: '冲正原因（必填）',
    tb_credit_confirm: '将生成一条冲正记录，抵消 CDR {id} 的全部金额（{total} 元）；原单据保持不变。确定吗？',
    tb_credit_yes: '确定冲正',
    tb_credited: '已生成冲正记录 CDR {id}（{total} 元）。',
    tb_rebill_title: '重新开票',
    tb_rebill_help: '先冲正当前有效的账单（CDR {id}），再重新计价开票；不填电价则按充电开始时生效的电价。',
    tb_rebill_help_none: '当前没有有效账单（已被冲正），将直接重新计价开票；不填电价则按充电开始时生效的电价。',
    tb_rebill_reason: '重新开票原因（必填）',
    tb_rebill_tariff: '电价编号（可选）',
    tb_rebill_version: '版本（可选）',
    tb_rebill: '重新开票…',
    tb_rebill_confirm: '确定要重新开票吗？将按{tariff}重新计价。',
    tb_rebill_tariff_default: '充电开始时生效的电价',
    tb_rebill_tariff_given: '电价 {id}{version}',
    tb_rebill_version_given: ' 第 {version} 版',
    tb_rebill_yes: '确定重新开票',
    tb_rebilled: '已重新开票：{records}。',
    tb_record: 'CDR {id}（{kind}，{total} 元）',
    tb_need_reason: '请先填写原因，再点按钮。',
    tb_version_number: '版本必须是正整数；不确定时请留空。',
    tb_version_needs_tariff: '填写版本时也要填写电价编号。',
    tb_viewer: '您的账号只能查看；冲正和重新开票需要运营人员或管理员账号。',
    tb_bad_id: '“{id}”不是充电记录编号；请从充电记录列表打开账单。',
  },
  en: {
    tb_bill: 'Bill',
    tb_title: 'Bill of transaction {id}',
    tb_back: 'Back to the transactions',
    tb_balance: 'Amount due',
    tb_no_cdr: 'not billed yet',
    tb_cny: '{amount} CNY',
    tb_metering: 'Metering check',
    tb_review: 'Review',
    tb_review_state: '{status} ({cause})',
    tb_open_hint: 'The session is still open: it is billed when it ends, by the tariff in force at its start. Below is its cost so far.',
    tb_running: 'Cost so far',
    tb_held_hint: 'This session was not billed automatically and awaits review: bill or void it in the review queue at the bottom of the Transactions page.',
    tb_unbilled_hint: 'This session has no bill (for example a refused start, or a review that voided it).',
    tb_cdrs: 'Charge detail records (CDRs)',
    tb_cdr_title: 'CDR {id} · {kind}',
    tb_kind_bill: 'bill',
    tb_kind_credit: 'credit',
    tb_kind_rebill: 're-bill',
    tb_corrects: 'corrects CDR {id}',
    tb_credited_by: 'credited by CDR {id}',
    tb_created: 'filed by {by} at {at}',
    tb_tariff: 'Tariff',
    tb_tariff_value: '{id} version {version}',
    tb_verdict: 'Metering verdict',
    tb_verdict_valid: 'valid',
    tb_verdict_flagged: 'flagged (billed)',
    tb_verdict_rejected: 'rejected',
    tb_reasons: 'Findings',
    tb_note: 'Note',
    tb_energy: 'Energy (kWh)',
    tb_energy_money: 'Electricity',
    tb_service_money: 'Service',
    tb_idle: 'Idle fee ({minutes} min)',
    tb_session_fee: 'Session fee',
    tb_total: 'Total',
    tb_col_band: 'Band',
    tb_col_span: 'Time',
    tb_col_kwh: 'Energy (kWh)',
    tb_col_prices: 'Price (electricity + service, CNY/kWh)',
    tb_col_energy_money: 'Electricity (CNY)',
    tb_col_service_money: 'Service (CNY)',
    tb_no_lines: 'No band lines.',
    tb_credit: 'Credit…',
    tb_credit_reason: 'Reason for the credit (required)',
    tb_credit_confirm: 'This files a credit cancelling all of CDR {id} ({total} CNY); the CDR itself stays as it is. Go ahead?',
    tb_credit_yes: 'Yes, credit it',
    tb_credited: 'Credit filed: CDR {id} ({total} CNY).',
    tb_rebill_title: 'Re-bill',
    tb_rebill_help: 'Credits the standing bill (CDR {id}), then prices the session again; without a tariff, by the tariff in force at the session\'s start.',
    tb_rebill_help_none: 'No bill stands (it was credited): the session is priced and billed again; without a tariff, by the tariff in force at its start.',
    tb_rebill_reason: 'Reason for the re-bill (required)',
    tb_rebill_tariff: 'Tariff id (optional)',
    tb_rebill_version: 'Version (optional)',
    tb_rebill: 'Re-bill…',
    tb_rebill_confirm: 'Re-bill this session? It is priced by {tariff}.',
    tb_rebill_tariff_default: 'the tariff in force at its start',
    tb_rebill_tariff_given: 'tariff {id}{version}',
    tb_rebill_version_given: ' version {version}',
    tb_rebill_yes: 'Yes, re-bill',
    tb_rebilled: 'Re-billed: {records}.',
    tb_record: 'CDR {id} ({kind}, {total} CNY)',
    tb_need_reason: 'Write the reason first, then press the button.',
    tb_version_number: 'The version must be a whole number of at least 1; leave it empty if unsure.',
    tb_version_needs_tariff: 'A version needs the tariff id as well.',
    tb_viewer: 'Your account reads only: credits and re-bills need an operator or admin account.',
    tb_bad_id: '"{id}" is no transaction number; open the bill from the transactions list.',
  },
});

const PAGE = 50;
const filters = { station: '', status: '', refused: '', since: '', until: '', offset: 0,
                  review: 'pending' }; // kept while the console is open

function stationLink(id) {
  return h('a', { href: `#/stations/${encodeURIComponent(id)}`, testid: `tx-station-${id}` }, id);
}

function txState(tx) {
  if (tx.refused) return t('tx_refused');
  return tx.status === 'open' ? t('tx_open') : t('tx_closed');
}

async function transactionsSection(box, isCurrent, scope, failed) {
  const station = h('input', { type: 'search', testid: 'tx-filter-station', value: filters.station,
                               placeholder: t('station_id') });
  const status = h('select', { testid: 'tx-filter-status' },
    h('option', { value: '' }, t('all')),
    h('option', { value: 'open' }, t('tx_open')),
    h('option', { value: 'closed' }, t('tx_closed')));
  status.value = filters.status;
  const refused = h('select', { testid: 'tx-filter-refused' },
    h('option', { value: '' }, t('all')),
    h('option', { value: 'false' }, t('tx_not_refused')),
    h('option', { value: 'true' }, t('tx_refused')));
  refused.value = filters.refused;
  const since = h('input', { type: 'datetime-local', testid: 'tx-filter-since', value: filters.since });
  const until = h('input', { type: 'datetime-local', testid: 'tx-filter-until', value: filters.until });
  const results = h('div', { testid: 'tx-list' });

  let asked = 0;
  const load = async (offset) => {
    Object.assign(filters, { station: station.value.trim(), status: status.value,
                             refused: refused.value, since: since.value, until: until.value, offset });
    const query = new URLSearchParams({ limit: String(PAGE + 1), offset: String(offset) });
    if (filters.station) query.set('station_id', filters.station);
    if (filters.status) query.set('status', filters.status);
    if (filters.refused) query.set('refused', filters.refused);
    if (filters.since) query.set('since', isoOf(filters.since));
    if (filters.until) query.set('until', isoOf(filters.until));
    const mine = ++asked;
    const rows = await call('GET', `/api/v1/transactions?${query}`);
    if (mine !== asked || !isCurrent()) return;
    const more = rows.length > PAGE;
    const shown = rows.slice(0, PAGE);
    results.dataset.count = String(shown.length);
    results.replaceChildren(
      shown.length === 0
        ? h('p', { class: 'muted', testid: 'tx-empty' }, t('no_transactions_found'))
        : table('tx-table',
          [t('col_tx'), t('col_station'), t('col_connector'), t('col_token'), t('col_started'),
           t('col_stopped'), t('col_status'), t('col_energy'), t('tb_bill')],
          shown.map((tx) => h('tr', { testid: `tx-${tx.id}` },
            h('td', {}, String(tx.id)),
            h('td', {}, stationLink(tx.station_id)),
            h('td', {}, String(tx.evse_id ?? tx.connector_id ?? '')),
            h('td', {}, tx.id_token ?? ''),
            h('td', {}, when(tx.started_at)),
            h('td', {}, when(tx.stopped_at)),
            h('td', { testid: `tx-${tx.id}-status` }, txState(tx)),
            h('td', {}, tx.energy_kwh ?? '–'),
            h('td', {}, h('a', { href: `#/transactions/${tx.id}`, testid: `tx-bill-${tx.id}` },
                          t('tb_bill')))))),
      pager('tx-pager', offset, PAGE, more, (next) => refresh(next),
            { prev: t('previous'), next: t('next'), page: t('page_rows', { from: offset + 1,
                                                                         to: offset + shown.length }) }),
    );
  };
  const refresh = (offset = 0) => load(offset).catch((error) => {
    if (error instanceof ApiError && error.sessionEnded) {
      failed(error);
      return;
    }
    results.replaceChildren(h('p', { class: 'result', testid: 'tx-error',
                                     dataset: { status: 'error' } }, explain(error, scope)));
  });
  const filter = h('form', { class: 'card inline', testid: 'tx-filters',
                             onsubmit: (event) => { event.preventDefault(); refresh(0); } },
    h('label', {}, t('station_id'), station),
    h('label', {}, t('col_status'), status),
    h('label', {}, t('refused_filter'), refused),
    h('label', {}, t('started_since'), since),
    h('label', {}, t('started_until'), until),
    h('button', { type: 'submit', class: 'primary', testid: 'tx-apply' }, t('apply')));
  box.replaceChildren(h('h2', {}, t('transactions_all_title')), filter, results);
  await load(filters.offset);
}

async function reviewsSection(box, session, isCurrent, failed) {
  const mayDecide = session.role !== 'viewer';
  const status = h('select', { testid: 'review-filter-status' },
    ['pending', 'billed', 'voided'].map((s) => h('option', { value: s }, t(`review_${s}`))));
  status.value = filters.review;
  const result = h('div', { class: 'result', testid: 'review-result', role: 'status' });
  const list = h('div', { testid: 'reviews' });

  const decide = async (tx, action, note, buttons) => {
    if (!note.value.trim()) {
      result.dataset.status = 'error';
      result.replaceChildren(t('e_missing_note'));
      note.focus();
      return;
    }
    for (const b of buttons) b.disabled = true;
    result.dataset.status = 'sending';
    result.replaceChildren(t('loading'));
    try {
      const answer = await call('POST', `/api/v1/billing/reviews/${tx}/${action}`,
                                { note: note.value.trim() }, 'review');
      await load(); // the decided session leaves the queue, then the answer shows
      result.dataset.status = 'ok';
      result.replaceChildren(h('p', { testid: 'review-answer' }, action === 'approve'
        ? t('review_approved', { tx, cdr: answer.id, total: answer.total })
        : t('review_voided_answer', { tx })));
    } catch (error) {
      if (error instanceof ApiError && error.sessionEnded) {
        failed(error);
        return;
      }
      result.dataset.status = 'error';
      result.replaceChildren(h('p', { testid: 'review-error' }, explain(error, session.scope)));
      for (const b of buttons) b.disabled = false;
    }
  };

  const actions = (review) => {
    if (!mayDecide || review.status !== 'pending') return null;
    const id = review.transaction_id;
    const note = h('input', { testid: `review-note-${id}`, autocomplete: 'off',
                              placeholder: t('review_note'), 'aria-label': t('review_note') });
    const approve = h('button', { type: 'button', class: 'primary', testid: `review-approve-${id}` },
                      t('approve'));
    const voidIt = h('button', { type: 'button', testid: `review-void-${id}` }, t('void'));
    approve.addEventListener('click', () => decide(id, 'approve', note, [approve, voidIt]));
    voidIt.addEventListener('click', () => decide(id, 'void', note, [approve, voidIt]));
    return h('div', { class: 'inline' }, note, approve, voidIt);
  };

  const load = async () => {
    filters.review = status.value;
    const rows = await call('GET', `/api/v1/billing/reviews?status=${status.value}&limit=1000`);
    if (!isCurrent()) return;
    const headers = [t('col_tx'), t('col_station'), t('col_cause'), t('col_detail'),
                     t('col_created'), t('col_status')];
    if (status.value !== 'pending') headers.push(t('col_resolved'));
    else if (mayDecide) headers.push(t('col_actions'));
    list.dataset.count = String(rows.length);
    list.replaceChildren(rows.length === 0
      ? h('p', { class: 'muted', testid: 'reviews-empty' }, t('no_reviews'))
      : table('reviews-table', headers, rows.map((r) => h('tr', { testid: `review-${r.transaction_id}` },
        h('td', {}, String(r.transaction_id)),
        h('td', {}, stationLink(r.station_id)),
        h('td', {}, t(`cause_${r.cause}`) === `cause_${r.cause}` ? r.cause : t(`cause_${r.cause}`)),
        h('td', {}, r.detail),
        h('td', {}, when(r.created_at)),
        h('td', {}, t(`review_${r.status}`)),
        r.status !== 'pending'
          ? h('td', {}, t('resolved_by', { who: r.resolved_by ?? '–', at: when(r.resolved_at),
                                         note: r.note ?? '' }))
          : mayDecide ? h('td', {}, actions(r)) : null))));
  };
  const reload = () => load().catch((error) => {
    if (error instanceof ApiError && error.sessionEnded) {
      failed(error);
      return;
    }
    list.replaceChildren(h('p', { class: 'result', testid: 'reviews-error',
                                  dataset: { status: 'error' } }, explain(error, session.scope)));
  });
  status.addEventListener('change', reload);

  box.replaceChildren(
    h('h2', {}, t('reviews_title')),
    h('p', { class: 'muted' }, mayDecide ? t('reviews_help') : t('reviews_help_viewer')),
    h('div', { class: 'card inline' }, h('label', {}, t('col_status'), status)),
    list,
    result,
  );
  await reload();
}

// --- one session's bill: #/transactions/<id> -----------------------------------------------

const cny = (amount) => h('span', { dataset: { amount } }, t('tb_cny', { amount }));

/** A word for an API value (kind, verdict, band...), the value itself when there is none. */
export function word(prefix, value) {
  const key = `${prefix}${value}`;
  const text = t(key);
  return text === key ? String(value) : text;
}

function fields(testid, pairs) {
  return h('dl', { class: 'fields', testid },
    pairs.filter(Boolean).map(([label, value, id]) => [h('dt', {}, label), h('dd', { testid: id }, value)]));
}

/** A bill's lines: band, time span, kWh, prices and money per line (running cost or CDR). */
function linesTable(testid, lines) {
  if (!lines || lines.length === 0) return h('p', { class: 'muted' }, t('tb_no_lines'));
  return table(testid,
    [t('tb_col_band'), t('tb_col_span'), t('tb_col_kwh'), t('tb_col_prices'),
     t('tb_col_energy_money'), t('tb_col_service_money')],
    lines.map((line) => h('tr', {},
      h('td', { class: `band-${line.band}` }, word('band_', line.band)),
      h('td', {}, `${when(line.start)} – ${when(line.end)}`),
      h('td', {}, line.energy_kwh),
      h('td', {}, line.energy_price === undefined ? '–' : `${line.energy_price} + ${line.service_price}`),
      h('td', {}, line.energy_money),
      h('td', {}, line.service_money))));
}

/** The money of a CDR or a running cost, as the API gives it. */
function amounts(prefix, bill) {
  return fields(`${prefix}-amounts`, [
    [t('tb_energy'), bill.energy_kwh, `${prefix}-kwh`],
    [t('tb_energy_money'), cny(bill.energy_money)],
    [t('tb_service_money'), cny(bill.service_money)],
    [t('tb_idle', { minutes: bill.idle_minutes }), cny(bill.idle_fee)],
    [t('tb_session_fee'), cny(bill.session_fee)],
    [t('tb_total'), cny(bill.total), `${prefix}-total`],
  ]);
}

/** The bill standing now: the newest bill or re-bill no credit cancels (null: none). */
function standingBill(cdrs) {
  const credited = new Set(cdrs.filter((c) => c.kind === 'credit').map((c) => c.corrects));
  const live = cdrs.filter((c) => c.kind !== 'credit' && !credited.has(c.id));
  return live.length ? live[live.length - 1] : null;
}

/** A reason input plus a button that first asks to confirm, then runs `send(reason)`. */
function confirmedAction(prefix, labels, send, check = () => null) {
  const reason = h('input', { testid: `${prefix}-reason`, autocomplete: 'off',
                              placeholder: labels.reason, 'aria-label': labels.reason });
  const start = h('button', { type: 'button', testid: `${prefix}-start` }, labels.start);
  const problem = h('span', { class: 'result', testid: `${prefix}-problem`,
                              dataset: { status: 'error' } });
  const question = h('span', { testid: `${prefix}-question` });
  const yes = h('button', { type: 'button', class: 'primary', testid: `${prefix}-yes` }, labels.yes);
  const no = h('button', { type: 'button', testid: `${prefix}-no` }, t('cancel'));
  const confirmBox = h('span', { class: 'inline', testid: `${prefix}-confirm`, hidden: true },
                       question, yes, no);
  const ask = (asking) => {
    confirmBox.hidden = !asking;
    start.hidden = asking;
    reason.disabled = asking;
  };
  start.addEventListener('click', () => {
    const fault = reason.value.trim() ? check() : t('tb_need_reason');
    problem.replaceChildren(fault ?? '');
    if (fault) return;
    question.replaceChildren(labels.question());
    ask(true);
  });
  no.addEventListener('click', () => ask(false));
  yes.addEventListener('click', async () => {
    yes.disabled = true;
    no.disabled = true;
    try {
      await send(reason.value.trim());
    } finally {
      yes.disabled = false;
      no.disabled = false;
      ask(false);
    }
  });
  return h('div', { class: 'inline' }, reason, start, confirmBox, problem);
}

function cdrCard(cdr, cdrs, mayWrite, credit) {
  const creditedBy = cdrs.find((c) => c.kind === 'credit' && c.corrects === cdr.id);
  const prefix = `cdr-${cdr.id}`;
  const reasons = (cdr.reasons ?? []).map((r) => r.detail ?? r.message ?? r.code ?? JSON.stringify(r));
  return h('div', { class: 'card', testid: prefix, dataset: { kind: cdr.kind } },
    h('h3', {}, t('tb_cdr_title', { id: cdr.id, kind: word('tb_kind_', cdr.kind) })),
    h('p', { class: 'muted' },
      t('tb_created', { by: cdr.created_by ?? '–', at: when(cdr.created_at) }),
      cdr.corrects ? ` · ${t('tb_corrects', { id: cdr.corrects })}` : '',
      creditedBy ? ` · ${t('tb_credited_by', { id: creditedBy.id })}` : ''),
    h('div', { class: 'inline', style: 'align-items: start' }, fields(`${prefix}-facts`, [
      [t('col_station'), h('a', { href: `#/stations/${encodeURIComponent(cdr.station_id)}` },
                           cdr.station_id)],
      [t('col_started'), when(cdr.started_at)],
      [t('col_stopped'), when(cdr.stopped_at)],
      [t('tb_tariff'), t('tb_tariff_value', { id: cdr.tariff_id, version: cdr.tariff_version })],
      [t('tb_verdict'), word('tb_verdict_', cdr.verdict), `${prefix}-verdict`],
      reasons.length ? [t('tb_reasons'), reasons.join('; ')] : null,
      cdr.detail?.note ? [t('tb_note'), cdr.detail.note, `${prefix}-note`] : null,
    ]), amounts(prefix, cdr)),
    linesTable(`${prefix}-lines`, cdr.lines),
    mayWrite && cdr.kind !== 'credit' && !creditedBy
      ? confirmedAction(`credit-${cdr.id}`, {
        reason: t('tb_credit_reason'), start: t('tb_credit'), yes: t('tb_credit_yes'),
        question: () => t('tb_credit_confirm', { id: cdr.id, total: cdr.total }),
      }, (reason) => credit(cdr, reason))
      : null);
}

function rebillForm(transactionId, standing, rebill) {
  const tariff = h('input', { testid: 'rebill-tariff', autocomplete: 'off',
                              placeholder: t('tb_rebill_tariff'), 'aria-label': t('tb_rebill_tariff') });
  const version = h('input', { testid: 'rebill-version', type: 'number', min: '1', step: '1',
                               placeholder: t('tb_rebill_version'),
                               'aria-label': t('tb_rebill_version') });
  const check = () => {
    const v = version.value.trim();
    if (v && !/^[1-9][0-9]{0,9}$/.test(v)) return t('tb_version_number');
    if (v && !tariff.value.trim()) return t('tb_version_needs_tariff');
    return null;
  };
  const which = () => (tariff.value.trim()
    ? t('tb_rebill_tariff_given', { id: tariff.value.trim(), version: version.value.trim()
      ? t('tb_rebill_version_given', { version: version.value.trim() }) : '' })
    : t('tb_rebill_tariff_default'));
  const action = confirmedAction('rebill', {
    reason: t('tb_rebill_reason'), start: t('tb_rebill'), yes: t('tb_rebill_yes'),
    question: () => t('tb_rebill_confirm', { tariff: which() }),
  }, (reason) => {
    const body = { note: reason };
    if (standing) body.replaces = standing.id;
    if (tariff.value.trim()) body.tariff_id = tariff.value.trim();
    if (version.value.trim()) body.tariff_version = Number(version.value.trim());
    return rebill(body);
  }, check);
  return h('section', { class: 'card', testid: 'rebill' },
    h('h3', {}, t('tb_rebill_title')),
    h('p', { class: 'muted' }, standing ? t('tb_rebill_help', { id: standing.id })
                                        : t('tb_rebill_help_none')),
    h('div', { class: 'inline' }, h('label', {}, t('tb_rebill_tariff'), tariff),
      h('label', {}, t('tb_rebill_version'), version)),
    action);
}

/** The summary above the CDRs: amount due, metering verdict, review, what happens next. */
function billSummary(bill) {
  const review = bill.review;
  const hint = bill.status === 'open' ? t('tb_open_hint')
    : review?.status === 'pending' ? t('tb_held_hint')
      : bill.cdrs.length === 0 ? t('tb_unbilled_hint') : null;
  return [
    fields('bill-summary', [
      [t('col_status'), bill.status === 'open' ? t('tx_open') : t('tx_closed'), 'bill-status'],
      [t('tb_balance'), bill.total === null ? t('tb_no_cdr') : cny(bill.total), 'bill-total'],
      bill.metering ? [t('tb_metering'), word('tb_verdict_', bill.metering.verdict)] : null,
      review ? [t('tb_review'), t('tb_review_state', { status: t(`review_${review.status}`),
                                                     cause: word('cause_', review.cause) }),
                'bill-review'] : null,
    ]),
    hint ? h('p', { class: 'muted', testid: 'bill-hint' }, hint) : null,
    bill.running_cost ? h('section', { testid: 'bill-running' },
      h('h2', {}, t('tb_running')),
      amounts('running', bill.running_cost),
      linesTable('running-lines', bill.running_cost.lines)) : null,
  ];
}

async function billPage(view, id, session, isCurrent, failed) {
  const back = h('a', { href: '#/transactions', testid: 'bill-back' }, t('tb_back'));
  if (!/^[1-9][0-9]{0,17}$/.test(id)) {
    view.replaceChildren(h('h1', {}, t('transactions_page_title')), back,
      h('p', { class: 'result', testid: 'bill-error', dataset: { status: 'error' } },
        t('tb_bad_id', { id })));
    return;
  }
  const mayWrite = session.role !== 'viewer';
  const body = h('div', { testid: 'bill' });
  const result = h('div', { class: 'result', testid: 'bill-result', role: 'status' });
  const problem = (error) => {
    if (error instanceof ApiError && error.sessionEnded) {
      failed(error);
      return;
    }
    result.dataset.status = 'error';
    result.replaceChildren(h('p', { testid: 'bill-error' }, explain(error, session.scope)));
  };
  const recordText = (r) => t('tb_record', { id: r.id, kind: word('tb_kind_', r.kind), total: r.total });
  const write = async (path, payload, answered) => {
    result.dataset.status = 'sending';
    result.replaceChildren(t('loading'));
    try {
      const answer = await call('POST', path, payload);
      await load();
      result.dataset.status = 'ok';
      result.replaceChildren(h('p', { testid: 'bill-answer' }, answered(answer)));
    } catch (error) {
      problem(error);
      // someone corrected it meanwhile: show the records as they stand now
      if (error instanceof ApiError && error.status === 409) await load().catch(problem);
    }
  };
  const credit = (cdr, reason) => write(`/api/v1/cdrs/${cdr.id}/credit`, { note: reason },
    (record) => t('tb_credited', { id: record.id, total: record.total }));
  const rebill = (payload) => write(`/api/v1/transactions/${id}/rebill`, payload,
    (records) => t('tb_rebilled', { records: records.map(recordText).join(t('list_separator')) }));

  const load = async () => {
    const bill = await call('GET', `/api/v1/transactions/${id}/bill`);
    if (!isCurrent()) return;
    const cdrs = bill.cdrs;
    body.dataset.cdrs = String(cdrs.length);
    body.replaceChildren(h('div', {}, // h() flattens and drops the absent parts
      billSummary(bill),
      cdrs.length ? h('h2', {}, t('tb_cdrs')) : null,
      cdrs.map((cdr) => cdrCard(cdr, cdrs, mayWrite, credit)),
      mayWrite && cdrs.length ? rebillForm(id, standingBill(cdrs), rebill) : null,
      !mayWrite && cdrs.length ? h('p', { class: 'muted', testid: 'bill-viewer' }, t('tb_viewer')) : null,
    ));
  };
  try {
    await load();
  } catch (error) {
    problem(error);
  }
  if (!isCurrent()) return;
  view.replaceChildren(h('h1', { testid: 'bill-title' }, t('tb_title', { id })), back, result, body);
}

export async function transactionsPage(view, session, isCurrent, failed) {
  const [, , id] = location.hash.split('/');
  if (id !== undefined && id !== '') {
    await billPage(view, decodeURIComponent(id), session, isCurrent, failed);
    return;
  }
  const txBox = h('section', { testid: 'tx-section' });
  const reviewBox = h('section', { testid: 'review-section' });
  await Promise.all([transactionsSection(txBox, isCurrent, session.scope, failed),
                     reviewsSection(reviewBox, session, isCurrent, failed)]);
  if (!isCurrent()) return;
  view.replaceChildren(h('h1', {}, t('transactions_page_title')), txBox, reviewBox);
}
