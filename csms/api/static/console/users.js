/*
 * Accounts and API keys (whole-network admins only): the operator accounts with create, change
 * role and scope, disable and enable, reset the password, and delete (confirmed in the page);
 * the API keys with create (the key is shown once) and revoke.
 */

import { call, describeScope, resultLine, writer } from './api.js';
import { h, table } from './dom.js';
import { t, when } from './i18n.js';

const ROLES = ['viewer', 'operator', 'admin'];

/** Scope inputs: whole network, counties (comma-separated) or an owner unit. */
function scopeInputs(prefix, scope) {
  const kind = h('select', { testid: `${prefix}-scope-kind`, 'aria-label': t('col_scope') },
    h('option', { value: 'all' }, t('whole_network')),
    h('option', { value: 'counties' }, t('scope_kind_counties')),
    h('option', { value: 'unit' }, t('scope_kind_unit')));
  kind.value = !scope ? 'all' : scope.owner_unit ? 'unit' : 'counties';
  const value = h('input', {
    testid: `${prefix}-scope-value`, autocomplete: 'off', 'aria-label': t('scope_value'),
    placeholder: t('scope_value_hint'),
    value: !scope ? '' : scope.owner_unit ?? (scope.counties ?? []).join(', '),
  });
  const body = () => {
    if (kind.value === 'all') return null;
    if (kind.value === 'unit') return { owner_unit: value.value.trim() };
    return { counties: value.value.split(/[,，、]/).map((c) => c.trim()).filter(Boolean) };
  };
  return { kind, value, body };
}

function roleSelect(testid, role) {
  const select = h('select', { testid, 'aria-label': t('col_role') },
    ROLES.map((r) => h('option', { value: r }, t(`role_${r}`))));
  select.value = role;
  return select;
}

export async function usersPage(view, session, isCurrent, failed) {
  const result = h('div', { class: 'result', testid: 'user-result', role: 'status' });
  const users = h('div', { testid: 'users' });
  const keys = h('div', { testid: 'keys' });
  const newKey = h('div', { testid: 'key-new' });
  const myId = session.user?.id;

  const line = resultLine(result, session, failed, 'user-error');
  const { report } = line;
  // on success both lists are read again
  const write = writer(line, { context: 'admin', reload: () => load(), answerTestid: 'user-answer' });

  const userRow = (user) => {
    const id = user.login;
    const path = `/api/v1/users/${user.id}`;
    const role = roleSelect(`user-role-${id}`, user.role);
    const scope = scopeInputs(`user-${id}`, user.scope);
    const save = h('button', { type: 'button', testid: `user-save-${id}` }, t('save'));
    save.addEventListener('click', () => write(
      'PATCH', path, { role: role.value, scope: scope.body() },
      () => t('user_saved', { login: user.login }), save));
    const toggle = h('button', { type: 'button', testid: `user-${user.disabled ? 'enable' : 'disable'}-${id}`,
                                 disabled: user.id === myId },
                     user.disabled ? t('enable') : t('disable'));
    toggle.addEventListener('click', () => write(
      'PATCH', path, { disabled: !user.disabled },
      (answer) => t(answer.disabled ? 'user_now_disabled' : 'user_now_enabled', { login: user.login }),
      toggle));
    const password = h('input', { type: 'password', testid: `user-password-${id}`,
                                  autocomplete: 'new-password', 'aria-label': t('new_password') });
    const reset = h('button', { type: 'button', testid: `user-reset-${id}` }, t('reset_password'));
    reset.addEventListener('click', () => {
      if (!password.value) {
        report('error', t('e_missing_password'), 'user-error');
        return;
      }
      write('PATCH', path, { password: password.value },
            () => t('user_password_reset', { login: user.login }), reset);
    });
    const remove = h('button', { type: 'button', class: 'danger', testid: `user-delete-${id}`,
                                 disabled: user.id === myId }, t('delete'));
    const confirmBox = h('span', { class: 'inline', testid: `user-confirm-${id}`, hidden: true },
      t('user_delete_confirm', { login: user.login }),
      h('button', { type: 'button', class: 'danger', testid: `user-delete-yes-${id}`,
                    onclick: (event) => write('DELETE', path, undefined,
                                              () => t('user_deleted', { login: user.login }),
                                              event.target) }, t('delete_yes')),
      h('button', { type: 'button', testid: `user-delete-no-${id}`,
                    onclick: () => { confirmBox.hidden = true; remove.hidden = false; } }, t('cancel')));
    remove.addEventListener('click', () => { confirmBox.hidden = false; remove.hidden = true; });
    return h('tr', { testid: `user-${id}` },
      h('td', {}, user.login),
      h('td', {}, user.display_name ?? '–'),
      h('td', {}, h('div', { class: 'inline' }, role)),
      h('td', { testid: `user-${id}-scope` },
        h('div', { class: 'inline' }, describeScope(user.scope), scope.kind, scope.value, save)),
      h('td', { testid: `user-${id}-state`, class: user.disabled ? 'offline' : 'online',
                dataset: { disabled: String(user.disabled) } },
        user.disabled ? t('user_disabled') : t('user_active')),
      h('td', {}, when(user.created_at)),
      h('td', {}, h('div', { class: 'inline' }, toggle, password, reset, remove, confirmBox)),
    );
  };

  const keyRow = (key) => {
    const revoke = h('button', { type: 'button', class: 'danger', testid: `key-revoke-${key.id}`,
                                 disabled: Boolean(key.revoked_at) }, t('revoke'));
    revoke.addEventListener('click', () => write(
      'DELETE', `/api/v1/keys/${key.id}`, undefined,
      () => { newKey.replaceChildren(); return t('key_revoked', { name: key.name }); }, revoke));
    return h('tr', { testid: `key-${key.id}`, dataset: { name: key.name } },
      h('td', {}, key.name),
      h('td', {}, t(`role_${key.role}`)),
      h('td', {}, describeScope(key.scope)),
      h('td', {}, when(key.created_at)),
      h('td', {}, key.last_used_at ? when(key.last_used_at) : '–'),
      h('td', { testid: `key-${key.id}-revoked`, class: key.revoked_at ? 'offline' : 'online',
                dataset: { revoked: String(Boolean(key.revoked_at)) } },
        key.revoked_at ? when(key.revoked_at) : t('key_live')),
      h('td', {}, revoke),
    );
  };

  const load = async () => {
    const [userRows, keyRows] = await Promise.all([
      call('GET', '/api/v1/users'), call('GET', '/api/v1/keys')]);
    if (!isCurrent()) return;
    users.dataset.count = String(userRows.length);
    users.replaceChildren(table('users-table',
      [t('login'), t('display_name'), t('col_role'), t('col_scope'), t('col_state'),
       t('col_created_at'), t('col_actions')], userRows.map(userRow)));
    keys.dataset.count = String(keyRows.length);
    keys.replaceChildren(keyRows.length === 0
      ? h('p', { class: 'muted', testid: 'keys-empty' }, t('no_keys'))
      : table('keys-table', [t('key_name'), t('col_role'), t('col_scope'), t('col_created_at'),
                             t('key_last_used'), t('key_revoked_at'), t('col_actions')],
              keyRows.map(keyRow)));
  };

  // create an account
  const login = h('input', { testid: 'user-new-login', autocomplete: 'off' });
  const displayName = h('input', { testid: 'user-new-name', autocomplete: 'off' });
  const role = roleSelect('user-new-role', 'operator');
  const scope = scopeInputs('user-new', null);
  const password = h('input', { type: 'password', testid: 'user-new-password',
                                autocomplete: 'new-password' });
  const createUser = async (event) => {
    event.preventDefault();
    if (!login.value.trim() || !password.value) {
      report('error', t('e_missing_user'), 'user-error');
      return;
    }
    const body = { login: login.value.trim(), role: role.value, password: password.value,
                   scope: scope.body() };
    if (displayName.value.trim()) body.display_name = displayName.value.trim();
    await write('POST', '/api/v1/users', body, (answer) => {
      for (const field of [login, displayName, password, scope.value]) field.value = '';
      return t('user_created', { login: answer.login });
    });
  };

  // create a key
  const keyName = h('input', { testid: 'key-new-name', maxlength: '100',
                               autocomplete: 'off' });
  const keyRole = roleSelect('key-new-role', 'viewer');
  const keyScope = scopeInputs('key-new', null);
  const createKey = async (event) => {
    event.preventDefault();
    if (!keyName.value.trim()) {
      report('error', t('e_missing_key_name'), 'user-error');
      return;
    }
    const answer = await write('POST', '/api/v1/keys',
      { name: keyName.value.trim(), role: keyRole.value, scope: keyScope.body() },
      (created) => t('key_created', { name: created.name }));
    if (answer) {
      keyName.value = '';
      keyScope.value.value = '';
      newKey.replaceChildren(h('div', { class: 'card' },
        h('p', {}, t('key_copy_now')),
        h('code', { testid: 'key-new-value' }, answer.key)));
    }
  };

  await load();
  if (!isCurrent()) return;
  view.replaceChildren(
    h('h1', {}, t('users_title')),
    result,
    h('form', { class: 'card inline', testid: 'user-create', onsubmit: createUser },
      h('label', {}, t('login'), login),
      h('label', {}, t('display_name_optional'), displayName),
      h('label', {}, t('col_role'), role),
      h('label', {}, t('col_scope'), scope.kind),
      h('label', {}, t('scope_value'), scope.value),
      h('label', {}, t('initial_password'), password),
      h('button', { type: 'submit', class: 'primary', testid: 'user-create-submit' },
        t('create_user'))),
    users,
    h('h2', {}, t('keys_title')),
    h('form', { class: 'card inline', testid: 'key-create', onsubmit: createKey },
      h('label', {}, t('key_name'), keyName),
      h('label', {}, t('col_role'), keyRole),
      h('label', {}, t('col_scope'), keyScope.kind),
      h('label', {}, t('scope_value'), keyScope.value),
      h('button', { type: 'submit', class: 'primary', testid: 'key-create-submit' },
        t('create_key'))),
    newKey,
    keys,
  );
}
