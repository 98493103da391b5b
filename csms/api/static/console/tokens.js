/*
 * Id tokens (charging cards): the list with a search box (id or group, in the page shown),
 * blocked and group filters (asked of the API) and paging; operators and admins create a
 * token (id, group, expiry), block and unblock it, change its expiry and delete it after a
 * confirm step in the page (DELETE /api/v1/tokens/{id}: starts with it are refused from then
 * on; its sessions and CDRs keep naming it). Viewers read only.
 */

import { call, resultLine, writer } from './api.js';
import { h, isoOf, localOf, pager, table } from './dom.js';
import { addWords, t, when } from './i18n.js';

addWords({
  zh: {
    tk_delete: '删除',
    tk_delete_confirm: '确定删除卡片 {id}？此后用它充电会被拒绝；已有的充电记录和账单仍保留卡号。',
    tk_delete_yes: '确认删除',
    tk_deleted: '卡片 {id} 已删除；此后用它充电会被拒绝。',
  },
  en: {
    tk_delete: 'Delete',
    tk_delete_confirm: 'Delete token {id}? Starts with it are refused from then on; its sessions and CDRs keep naming it.',
    tk_delete_yes: 'Delete it',
    tk_deleted: 'Token {id} is deleted; starts with it are refused from now on.',
  },
});

const PAGE = 100;
const filters = { search: '', blocked: '', group: '', offset: 0 }; // kept while the console is open

export async function tokensPage(view, session, isCurrent, failed) {
  const mayWrite = session.role !== 'viewer';
  const result = h('div', { class: 'result', testid: 'token-result', role: 'status' });
  const list = h('div', { testid: 'tokens' });
  const search = h('input', { type: 'search', testid: 'token-search', value: filters.search });
  const blocked = h('select', { testid: 'token-filter-blocked' },
    h('option', { value: '' }, t('all')),
    h('option', { value: 'false' }, t('token_usable')),
    h('option', { value: 'true' }, t('token_blocked')));
  blocked.value = filters.blocked;
  const group = h('input', { type: 'search', testid: 'token-filter-group', value: filters.group });

  const line = resultLine(result, session, failed, 'token-error');
  const { report, problem } = line;
  // 'ok' once the list shows the change
  const write = writer(line, { context: 'token', reload: () => load(filters.offset),
                               answerTestid: 'token-answer' });

  /** Delete asks first, in the page: the question and its two answers replace the button. */
  const deleting = (id, path) => {
    const box = h('span', { class: 'inline' });
    const ask = h('button', { type: 'button', class: 'danger', testid: `token-delete-${id}` }, t('tk_delete'));
    const yes = h('button', { type: 'button', class: 'danger', testid: `token-delete-confirm-${id}` },
                  t('tk_delete_yes'));
    const no = h('button', { type: 'button', testid: `token-delete-cancel-${id}` }, t('cancel'));
    const question = h('span', { class: 'confirm', testid: `token-delete-question-${id}` },
                       t('tk_delete_confirm', { id }), yes, no);
    ask.addEventListener('click', () => box.replaceChildren(question));
    no.addEventListener('click', () => box.replaceChildren(ask));
    yes.addEventListener('click', () => write('DELETE', path, undefined,
                                              () => t('tk_deleted', { id }), yes));
    box.append(ask);
    return box;
  };

  const row = (token) => {
    const id = token.id_token;
    const path = `/api/v1/tokens/${encodeURIComponent(id)}`;
    const cells = [
      h('td', {}, id),
      h('td', {}, token.token_type),
      h('td', {}, token.group_id ?? '–'),
      h('td', { testid: `token-${id}-expiry` }, when(token.expires_at)),
      h('td', { testid: `token-${id}-state`, class: token.blocked ? 'offline' : 'online',
                dataset: { blocked: String(token.blocked) } },
        token.blocked ? t('token_blocked') : t('token_usable')),
    ];
    if (mayWrite) {
      const toggle = h('button', { type: 'button', testid: `token-${token.blocked ? 'unblock' : 'block'}-${id}` },
                       token.blocked ? t('unblock') : t('block'));
      toggle.addEventListener('click', () => write(
        'POST', `${path}/${token.blocked ? 'unblock' : 'block'}`, undefined,
        (answer) => t(answer.blocked ? 'token_now_blocked' : 'token_now_unblocked', { id }), toggle));
      const expiry = h('input', { type: 'datetime-local', testid: `token-expiry-input-${id}`,
                                  value: localOf(token.expires_at), 'aria-label': t('expires_at') });
      const save = h('button', { type: 'button', testid: `token-expiry-save-${id}` }, t('save_expiry'));
      save.addEventListener('click', () => write(
        'PATCH', path, expiry.value ? { expires_at: isoOf(expiry.value) } : { clear_expiry: true },
        (answer) => t('token_expiry_saved', { id, expiry: when(answer.expires_at) }), save));
      cells.push(h('td', {}, h('div', { class: 'inline' }, toggle, expiry, save, deleting(id, path))));
    }
    return h('tr', { testid: `token-${id}` }, cells);
  };

  let asked = 0;
  const load = async (offset) => {
    Object.assign(filters, { search: search.value, blocked: blocked.value,
                             group: group.value.trim(), offset });
    const query = new URLSearchParams({ limit: String(PAGE + 1), offset: String(offset) });
    if (filters.blocked) query.set('blocked', filters.blocked);
    if (filters.group) query.set('group_id', filters.group);
    const mine = ++asked;
    const rows = await call('GET', `/api/v1/tokens?${query}`);
    if (mine !== asked || !isCurrent()) return;
    const more = rows.length > PAGE;
    const words = filters.search.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const shown = rows.slice(0, PAGE).filter((tk) => {
      const text = `${tk.id_token} ${tk.group_id ?? ''}`.toLowerCase();
      return words.every((word) => text.includes(word));
    });
    const headers = [t('col_token'), t('col_token_type'), t('col_group'), t('expires_at'),
                     t('col_state')];
    if (mayWrite) headers.push(t('col_actions'));
    list.dataset.count = String(shown.length);
    list.replaceChildren(
      shown.length === 0
        ? h('p', { class: 'muted', testid: 'tokens-empty' }, t('no_tokens'))
        : table('tokens-table', headers, shown.map(row)),
      pager('token-pager', offset, PAGE, more, (next) => load(next).catch(problem),
            { prev: t('previous'), next: t('next'),
              page: t('page_rows', { from: offset + 1, to: offset + Math.min(rows.length, PAGE) }) }),
    );
  };
  const onChange = () => load(0).catch(problem);
  search.addEventListener('input', onChange);
  blocked.addEventListener('change', onChange);
  group.addEventListener('change', onChange);

  const sections = [
    h('h1', {}, t('tokens_title')),
    h('div', { class: 'card inline' },
      h('label', {}, t('token_search'), search),
      h('label', {}, t('col_state'), blocked),
      h('label', {}, t('col_group'), group)),
  ];
  if (mayWrite) {
    const newId = h('input', { testid: 'token-new-id', required: true, maxlength: '36',
                               autocomplete: 'off' });
    const newGroup = h('input', { testid: 'token-new-group', maxlength: '36', autocomplete: 'off' });
    const newExpiry = h('input', { type: 'datetime-local', testid: 'token-new-expiry' });
    const create = async (event) => {
      event.preventDefault();
      const id = newId.value.trim();
      if (!id) {
        report('error', t('e_missing_token'), 'token-error');
        return;
      }
      const body = { id_token: id };
      if (newGroup.value.trim()) body.group_id = newGroup.value.trim();
      if (newExpiry.value) body.expires_at = isoOf(newExpiry.value);
      await write('POST', '/api/v1/tokens', body, () => {
        for (const field of [newId, newGroup, newExpiry]) field.value = '';
        return t('token_created', { id });
      });
    };
    sections.push(h('form', { class: 'card inline', testid: 'token-create', onsubmit: create },
      h('label', {}, t('id_token'), newId),
      h('label', {}, t('col_group_optional'), newGroup),
      h('label', {}, t('expires_at_optional'), newExpiry),
      h('button', { type: 'submit', class: 'primary', testid: 'token-create-submit' },
        t('create_token'))));
  } else {
    sections.push(h('p', { class: 'muted', testid: 'tokens-viewer' }, t('tokens_viewer')));
  }
  sections.push(result, list);
  await load(filters.offset);
  if (!isCurrent()) return;
  view.replaceChildren(...sections);
}
