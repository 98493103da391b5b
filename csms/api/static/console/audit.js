/*
 * The operator audit (GET /api/v1/audit): who did what to which station, token or account,
 * newest first, filtered by subject kind and subject id, 50 a page.
 */

import { ApiError, call, explain } from './api.js';
import { h, pager, table } from './dom.js';
import { t, when } from './i18n.js';

const PAGE = 50;
const filters = { kind: '', subject: '', offset: 0 }; // kept while the console is open

export async function auditPage(view, session, isCurrent, failed) {
  const kind = h('select', { testid: 'audit-filter-kind' },
    h('option', { value: '' }, t('all')),
    ['station', 'token', 'user'].map((k) => h('option', { value: k }, t(`kind_${k}`))));
  kind.value = filters.kind;
  const subject = h('input', { type: 'search', testid: 'audit-filter-subject', maxlength: '200',
                               value: filters.subject });
  const list = h('div', { testid: 'audit' });

  let asked = 0;
  const load = async (offset) => {
    Object.assign(filters, { kind: kind.value, subject: subject.value.trim(), offset });
    const query = new URLSearchParams({ limit: String(PAGE + 1), offset: String(offset) });
    if (filters.kind) query.set('subject_kind', filters.kind);
    if (filters.subject) query.set('subject_id', filters.subject);
    const mine = ++asked;
    const rows = await call('GET', `/api/v1/audit?${query}`);
    if (mine !== asked || !isCurrent()) return;
    const more = rows.length > PAGE;
    const shown = rows.slice(0, PAGE);
    list.dataset.count = String(shown.length);
    list.replaceChildren(
      shown.length === 0
        ? h('p', { class: 'muted', testid: 'audit-empty' }, t('no_audit'))
        : table('audit-table',
          [t('col_at'), t('col_actor'), t('col_action'), t('col_subject'), t('col_detail')],
          shown.map((a) => h('tr', { testid: `audit-${a.id}`, dataset: { action: a.action } },
            h('td', {}, when(a.at)),
            h('td', {}, a.actor),
            h('td', {}, t(`action_${a.action}`) === `action_${a.action}` ? a.action
              : t(`action_${a.action}`)),
            h('td', {}, `${t(`kind_${a.subject_kind}`)} ${a.subject_id}`),
            h('td', {}, Object.keys(a.detail ?? {}).length
              ? h('code', { class: 'detail' }, JSON.stringify(a.detail)) : '')))),
      pager('audit-pager', offset, PAGE, more, (next) => refresh(next),
            { prev: t('previous'), next: t('next'),
              page: t('page_rows', { from: offset + 1, to: offset + shown.length }) }),
    );
  };
  const refresh = (offset = 0) => load(offset).catch((error) => {
    if (error instanceof ApiError && error.sessionEnded) {
      failed(error);
      return;
    }
    list.replaceChildren(h('p', { class: 'result', testid: 'audit-error',
                                  dataset: { status: 'error' } }, explain(error, session.scope)));
  });
  kind.addEventListener('change', () => refresh(0));
  subject.addEventListener('change', () => refresh(0));

  await load(filters.offset);
  if (!isCurrent()) return;
  view.replaceChildren(
    h('h1', {}, t('audit_title')),
    h('p', { class: 'muted' }, t('audit_help')),
    h('form', { class: 'card inline', testid: 'audit-filters',
                onsubmit: (event) => { event.preventDefault(); refresh(0); } },
      h('label', {}, t('col_subject_kind'), kind),
      h('label', {}, t('col_subject_id'), subject),
      h('button', { type: 'submit', class: 'primary', testid: 'audit-apply' }, t('apply'))),
    list,
  );
}
