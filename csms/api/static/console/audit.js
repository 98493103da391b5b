/*
 * The operator audit (GET /api/v1/audit): who did what to which station, token or account,
 * newest first, filtered by subject kind and id, by actor and by time, 50 a page. The times are
 * the browser's local time, sent as UTC instants.
 */

import { ApiError, call, explain } from './api.js';
import { h, isoOf, pager, table } from './dom.js';
import { addWords, t, when } from './i18n.js';

addWords({
  zh: {
    'action_token.create': '新建卡片',
    'action_token.update': '修改卡片',
    'action_token.block': '停用卡片',
    'action_token.unblock': '恢复使用卡片',
    au_actor: '操作人（账号或密钥名）',
    au_since: '起始时间（含）',
    au_until: '截止时间（不含）',
    au_bad_range: '截止时间早于起始时间：请改正其中一个后再筛选。',
  },
  en: {
    'action_token.create': 'id token created',
    'action_token.update': 'id token changed',
    'action_token.block': 'id token blocked',
    'action_token.unblock': 'id token unblocked',
    au_actor: 'Actor (login or key name)',
    au_since: 'From (inclusive)',
    au_until: 'Until (exclusive)',
    au_bad_range: 'The end is before the start: correct one of them, then filter again.',
  },
});

const PAGE = 50;
// kept while the console is open
const filters = { kind: '', subject: '', actor: '', since: '', until: '', offset: 0 };

export async function auditPage(view, session, isCurrent, failed) {
  const kind = h('select', { testid: 'audit-filter-kind' },
    h('option', { value: '' }, t('all')),
    ['station', 'token', 'user'].map((k) => h('option', { value: k }, t(`kind_${k}`))));
  kind.value = filters.kind;
  const subject = h('input', { type: 'search', testid: 'audit-filter-subject', maxlength: '200',
                               value: filters.subject });
  const actor = h('input', { type: 'search', testid: 'audit-filter-actor', maxlength: '200',
                             value: filters.actor });
  const since = h('input', { type: 'datetime-local', testid: 'audit-filter-since',
                             value: filters.since });
  const until = h('input', { type: 'datetime-local', testid: 'audit-filter-until',
                             value: filters.until });
  const list = h('div', { testid: 'audit' });

  let asked = 0;
  const load = async (offset) => {
    Object.assign(filters, { kind: kind.value, subject: subject.value.trim(),
                             actor: actor.value.trim(), since: since.value, until: until.value,
                             offset });
    if (filters.since && filters.until && isoOf(filters.until) < isoOf(filters.since)) {
      list.dataset.count = '';
      list.replaceChildren(h('p', { class: 'result', testid: 'audit-error',
                                    dataset: { status: 'error' } }, t('au_bad_range')));
      return;
    }
    const query = new URLSearchParams({ limit: String(PAGE + 1), offset: String(offset) });
    if (filters.kind) query.set('subject_kind', filters.kind);
    if (filters.subject) query.set('subject_id', filters.subject);
    if (filters.actor) query.set('actor', filters.actor);
    if (filters.since) query.set('since', isoOf(filters.since));
    if (filters.until) query.set('until', isoOf(filters.until));
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
  for (const input of [kind, subject, actor, since, until]) {
    input.addEventListener('change', () => refresh(0));
  }

  await load(filters.offset);
  if (!isCurrent()) return;
  view.replaceChildren(
    h('h1', {}, t('audit_title')),
    h('p', { class: 'muted' }, t('audit_help')),
    h('form', { class: 'card inline', testid: 'audit-filters',
                onsubmit: (event) => { event.preventDefault(); refresh(0); } },
      h('label', {}, t('col_subject_kind'), kind),
      h('label', {}, t('col_subject_id'), subject),
      h('label', {}, t('au_actor'), actor),
      h('label', {}, t('au_since'), since),
      h('label', {}, t('au_until'), until),
      h('button', { type: 'submit', class: 'primary', testid: 'audit-apply' }, t('apply'))),
    list,
  );
}
