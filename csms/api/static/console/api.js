/*
 * The API as the console uses it: the session cookie goes along by itself; writes carry the
 * CSRF token (the readable csms_csrf cookie). Every failure becomes an ApiError whose
 * explanation says, in the chosen language, what to do next.
 */

import { h } from './dom.js';
import { t } from './i18n.js';

const WHOLE_NETWORK = 'this needs a whole-network account';

export class ApiError extends Error {
  constructor(status, body, context) {
    super(`HTTP ${status}`);
    this.status = status; // 0: no answer at all
    this.detail = body?.detail;
    this.context = context; // 'sign-in', 'password', 'command' or ''
  }

  get sessionEnded() {
    return this.status === 401 && this.context !== 'sign-in';
  }
}

function csrfToken() {
  const found = document.cookie.split('; ').find((part) => part.startsWith('csms_csrf='));
  return found ? decodeURIComponent(found.slice('csms_csrf='.length)) : '';
}

/** JSON from the API (null for 204); throws ApiError. */
export async function call(method, path, body = undefined, context = '') {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken();
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch {
    throw new ApiError(0, null, context);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = new ApiError(response.status, data, context);
    error.retryAfter = response.headers.get('Retry-After');
    throw error;
  }
  return data;
}

function detailText(detail) {
  if (Array.isArray(detail)) {
    return detail.map((d) => `${d.field ?? ''} ${d.message ?? ''}`.trim()).join('; ');
  }
  return detail == null ? '' : String(detail);
}

/** How a scope reads: counties or an owner unit, or the whole network (null). */
export function describeScope(scope) {
  if (!scope) return t('whole_network');
  if (scope.owner_unit) return t('scope_unit', { unit: scope.owner_unit });
  return t('scope_counties', { list: (scope.counties ?? []).join(t('list_separator')) });
}

/** What went wrong and what to do next, in the chosen language. */
export function explain(error, scope) {
  if (!(error instanceof ApiError)) return t('e_server', { status: String(error) });
  const detail = detailText(error.detail);
  switch (error.status) {
    case 0:
      return t('e_network');
    case 401:
      return error.context === 'sign-in' ? t('e_wrong_login') : t('e_session_ended');
    case 403:
      if (detail === WHOLE_NETWORK) return t('e_scope', { scope: describeScope(scope) });
      if (detail.includes('X-CSRF-Token')) return t('e_csrf');
      if (error.context === 'password') return t('e_current_password');
      return t('e_role');
    case 404:
      return t('e_not_found');
    case 409:
      if (error.context === 'command' && /offline|not connected/i.test(detail)) return t('e_offline');
      return t('e_conflict', { detail });
    case 422:
      return t('e_invalid', { detail });
    case 429:
      return t('e_too_many', { seconds: error.retryAfter ?? '60' });
    case 502:
      return t('e_station_error', { detail });
    case 503:
      return t('e_unavailable');
    case 504:
      return t('e_station_timeout');
    default:
      return t('e_server', { status: error.status });
  }
}

/**
 * A page's result line: report(status, text, testid) shows what happened; problem(error) shows
 * a failure explained for the account's scope, or hands an ended session to `failed` (back to
 * the sign-in form).
 */
export function resultLine(result, session, failed, errorTestid) {
  const report = (status, text, testid) => {
    result.dataset.status = status;
    result.replaceChildren(h('p', { testid }, text));
  };
  const problem = (error) => {
    if (error instanceof ApiError && error.sessionEnded) {
      failed(error);
      return;
    }
    report('error', explain(error, session.scope), errorTestid);
  };
  return { report, problem };
}

/**
 * A page's writes, on the result line `line` (resultLine's): the button is held while the call
 * runs; on success `reload()` reads the page again and the line says `said(answer)` (as
 * `answerTestid`), on failure what went wrong. The returned function answers the API's answer,
 * or null when the write failed. `context` is call()'s, for the explanation of a refusal.
 */
export function writer({ report, problem }, { context = '', reload, answerTestid }) {
  return async (method, path, body, said, button) => {
    if (button) button.disabled = true;
    try {
      const answer = await call(method, path, body, context);
      await reload();
      report('ok', said(answer), answerTestid);
      return answer;
    } catch (error) {
      problem(error);
      return null;
    } finally {
      if (button) button.disabled = false;
    }
  };
}
