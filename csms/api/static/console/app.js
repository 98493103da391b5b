/*
 * The operator console: sign-in, overview, stations and a station's detail with its commands,
 * transactions and the billing review queue, id tokens, tariffs, the audit log, monitoring
 * platform pushes, accounts and API keys (whole-network admins only). One page with
 * hash routes (#/, #/stations, #/stations/<id>, #/map, #/transactions, #/billing, #/tokens,
 * #/tariffs, #/sharing, #/audit, #/platforms, #/users, #/password); all data comes from /api/v1 with the session cookie,
 * nothing from elsewhere.
 */

import { ApiError, call, describeScope, explain } from './api.js';
import { h } from './dom.js';
import { language, setLanguage, t } from './i18n.js';
import { auditPage } from './audit.js';
import { stationPage, stationsPage } from './stations.js';
import { tariffsPage } from './tariffs.js';
import { tokensPage } from './tokens.js';
import { transactionsPage } from './transactions.js';
import { usersPage } from './users.js';
import { platformsPage } from './platforms.js';
import { sharingPage } from './sharing.js';
import { billingPage } from './billing.js';
import { mapPage } from './map.js';

const view = document.getElementById('view');
const messageLine = document.getElementById('message');
let session = null; // GET /api/v1/session's answer while signed in
let renderCount = 0; // a late answer of a page left meanwhile is dropped

export function say(text, kind = 'info') {
  messageLine.textContent = text;
  messageLine.dataset.kind = kind;
}

function setState(state, page) {
  document.body.dataset.state = state;
  if (page) document.body.dataset.page = page;
}

/** Every page's way to report a failure; an ended session goes back to the sign-in form. */
export function failed(error) {
  if (error instanceof ApiError && error.sessionEnded) {
    session = null;
    showSignIn(t('e_session_ended'));
    return;
  }
  say(explain(error, session?.scope), 'error');
  setState('ready');
}

function translateStatic() {
  document.documentElement.lang = language() === 'en' ? 'en' : 'zh-CN';
  document.title = t('title');
  for (const node of document.querySelectorAll('[data-i18n]')) {
    node.textContent = t(node.dataset.i18n);
  }
  document.getElementById('language').textContent = t('other_language');
}

function header() {
  const signedIn = session !== null;
  document.getElementById('nav').hidden = !signedIn;
  document.getElementById('sign-out').hidden = !signedIn;
  const who = document.getElementById('who');
  if (!signedIn) {
    who.textContent = '';
    return;
  }
  const name = session.user?.display_name || session.user?.login || session.principal;
  who.textContent = t('signed_in_as', { name, role: t(`role_${session.role}`) });
  who.dataset.role = session.role;
  document.getElementById('nav-users').hidden = !isAdmin();
  const page = location.hash.split('/')[1] ?? '';
  for (const link of document.querySelectorAll('#nav a')) {
    const target = link.getAttribute('href').split('/')[1] ?? '';
    if (target === page) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

/** Accounts and keys are for whole-network admins only. */
function isAdmin() {
  return session?.role === 'admin' && !session.scope;
}

function showSignIn(message = '', kind = 'error') {
  renderCount += 1;
  header();
  const login = h('input', { name: 'login', autocomplete: 'username', required: true,
                             testid: 'sign-in-login' });
  const password = h('input', { name: 'password', type: 'password', required: true,
                                autocomplete: 'current-password', testid: 'sign-in-password' });
  const form = h(
    'form',
    { class: 'card narrow', testid: 'sign-in-form', onsubmit: (event) => signIn(event, login, password) },
    h('h1', {}, t('sign_in_title')),
    h('label', {}, t('login'), login),
    h('label', {}, t('password'), password),
    h('button', { type: 'submit', class: 'primary', testid: 'sign-in-submit' }, t('sign_in')),
  );
  view.replaceChildren(form);
  say(message, kind);
  setState('signed-out', 'sign-in');
}

async function signIn(event, login, password) {
  event.preventDefault();
  say(t('loading'));
  try {
    session = await call('POST', '/api/v1/session',
                         { login: login.value, password: password.value }, 'sign-in');
  } catch (error) {
    password.value = '';
    say(explain(error, null), 'error');
    setState('signed-out');
    return;
  }
  say('');
  route();
}

async function signOut() {
  try {
    await call('DELETE', '/api/v1/session');
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) {
      failed(error);
      return;
    }
  }
  session = null;
  showSignIn(t('signed_out'), 'ok');
}

async function overviewPage(isCurrent) {
  const stations = await call('GET', '/api/v1/stations?limit=1000');
  if (!isCurrent()) return;
  const connected = stations.filter((s) => s.connected).length;
  const count = (testid, label, value, cls = '') =>
    h('a', { class: `count ${cls}`, href: '#/stations', testid },
      h('strong', { testid: `${testid}-value` }, String(value)), label);
  view.replaceChildren(
    h('h1', {}, t('overview_title')),
    h('div', { class: 'counts' },
      count('count-total', t('stations_total'), stations.length),
      count('count-connected', t('stations_connected'), connected, 'online'),
      count('count-offline', t('stations_offline'), stations.length - connected, 'offline')),
    h('p', { class: 'muted', testid: 'scope' }, t('your_scope', { scope: describeScope(session.scope) })),
  );
}

function passwordPage() {
  const input = (name, testid, autocomplete) =>
    h('input', { name, type: 'password', required: true, autocomplete, testid });
  const current = input('current', 'password-current', 'current-password');
  const fresh = input('new', 'password-new', 'new-password');
  const again = input('again', 'password-again', 'new-password');
  const submit = async (event) => {
    event.preventDefault();
    if (fresh.value !== again.value) {
      say(t('passwords_differ'), 'error');
      return;
    }
    try {
      const answer = await call('POST', '/api/v1/session/password',
                                { current: current.value, new: fresh.value }, 'password');
      say(t('password_changed', { n: answer.sessions_ended }), 'ok');
      for (const field of [current, fresh, again]) field.value = '';
    } catch (error) {
      failed(error);
    }
  };
  view.replaceChildren(
    h('form', { class: 'card narrow', testid: 'password-form', onsubmit: submit },
      h('h1', {}, t('change_password_title')),
      h('label', {}, t('current_password'), current),
      h('label', {}, t('new_password'), fresh),
      h('label', {}, t('repeat_password'), again),
      h('button', { type: 'submit', class: 'primary', testid: 'password-submit' },
        t('change_password'))),
  );
}

/** Show the page the hash names (the sign-in form while nobody is signed in). */
export async function route() {
  translateStatic();
  if (session === null) {
    try {
      session = await call('GET', '/api/v1/session');
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) showSignIn();
      else failed(error);
      return;
    }
  }
  header();
  const mine = ++renderCount;
  const isCurrent = () => mine === renderCount;
  const [, page = '', id] = location.hash.split('/');
  let name = page === 'stations' ? (id ? 'station' : 'stations') : page || 'overview';
  if (name === 'users' && !isAdmin()) name = 'overview';
  setState('loading', name);
  view.replaceChildren(h('p', { class: 'muted' }, t('loading')));
  try {
    if (name === 'stations') await stationsPage(view, isCurrent);
    else if (name === 'station') await stationPage(view, decodeURIComponent(id), session, isCurrent, failed);
    else if (name === 'transactions') await transactionsPage(view, session, isCurrent, failed);
    else if (name === 'tokens') await tokensPage(view, session, isCurrent, failed);
    else if (name === 'tariffs') await tariffsPage(view, session, isCurrent, failed);
    else if (name === 'audit') await auditPage(view, session, isCurrent, failed);
    else if (name === 'platforms') await platformsPage(view, session, isCurrent, failed);
    else if (name === 'sharing') await sharingPage(view, session, isCurrent, failed);
    else if (name === 'billing') await billingPage(view, session, isCurrent, failed);
    else if (name === 'map') await mapPage(view, session, isCurrent, failed);
    else if (name === 'users') await usersPage(view, session, isCurrent, failed);
    else if (name === 'password') passwordPage();
    else await overviewPage(isCurrent);
  } catch (error) {
    if (isCurrent()) failed(error);
    return;
  }
  if (isCurrent()) setState('ready', name);
}

document.getElementById('language').addEventListener('click', () => {
  setLanguage(language() === 'en' ? 'zh' : 'en');
  say('');
  if (session === null) {
    translateStatic();
    showSignIn();
  } else {
    route();
  }
});
document.getElementById('sign-out').addEventListener('click', signOut);
window.addEventListener('hashchange', () => {
  say('');
  route();
});
route();
