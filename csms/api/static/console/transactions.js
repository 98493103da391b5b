/*
 * Transactions across the stations the account may see (filters: station, status, refused,
 * start time; 50 a page) and the billing review queue: sessions held instead of billed, which
 * an operator approves (bill as the data stands) or voids (never bill), each with a note.
 */

import { ApiError, call, explain } from './api.js';
import { h, isoOf, pager, table } from './dom.js';
import { t, when } from './i18n.js';

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
           t('col_stopped'), t('col_status'), t('col_energy')],
          shown.map((tx) => h('tr', { testid: `tx-${tx.id}` },
            h('td', {}, String(tx.id)),
            h('td', {}, stationLink(tx.station_id)),
            h('td', {}, String(tx.evse_id ?? tx.connector_id ?? '')),
            h('td', {}, tx.id_token ?? ''),
            h('td', {}, when(tx.started_at)),
            h('td', {}, when(tx.stopped_at)),
            h('td', { testid: `tx-${tx.id}-status` }, txState(tx)),
            h('td', {}, tx.energy_kwh ?? '–')))),
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

export async function transactionsPage(view, session, isCurrent, failed) {
  const txBox = h('section', { testid: 'tx-section' });
  const reviewBox = h('section', { testid: 'review-section' });
  await Promise.all([transactionsSection(txBox, isCurrent, session.scope, failed),
                     reviewsSection(reviewBox, session, isCurrent, failed)]);
  if (!isCurrent()) return;
  view.replaceChildren(h('h1', {}, t('transactions_page_title')), txBox, reviewBox);
}
