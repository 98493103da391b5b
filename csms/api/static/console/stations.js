/*
 * The stations list (search, county and connection filters) and one station's page: its
 * fields, an open safety lockout (set and lifted here), connectors, recent transactions, the
 * commands an operator sends, password rotation (admins), its lockout history and the
 * messages it reported. Both pages follow the live event feed (GET /api/v1/events): a station
 * connecting, a connector's status, a session starting or ending show without a reload.
 */

import { ApiError, call, explain, resultLine } from './api.js';
import { h, table } from './dom.js';
import { addWords, t, when } from './i18n.js';

addWords({
  zh: {
    st_live_connecting: '正在连接实时更新…',
    st_live_on: '实时更新中',
    st_live_reconnecting: '实时更新中断，正在重新连接…',
    st_live_polling: '实时推送连接被拒绝或不可用，本页每 15 秒自动刷新一次；如持续出现，请刷新页面或联系管理员。',
    st_locked: '安全停用',
    st_lockout_title: '安全停用',
    st_lockout_open: '此充电桩已安全停用：{hazard}',
    st_lockout_by: '由 {by} 于 {at} 停用；在解除前所有充电请求都会被拒绝。',
    st_lockout_none: '当前没有安全停用。',
    st_hazard: '隐患说明（必填）',
    st_lock: '安全停用…',
    st_lock_confirm: '确认停用：正在进行的充电会被结束',
    st_rectification: '整改说明（必填）',
    st_lift: '解除安全停用',
    st_e_hazard: '请先写明隐患，再停用该充电桩。',
    st_e_rectification: '请先写明整改措施，再解除停用。',
    st_locked_done: '已安全停用充电桩 {id}。{availability}',
    st_lifted_done: '已解除充电桩 {id} 的安全停用。{availability}',
    st_av_sent: '充电桩对可用性变更的回复：{status}。',
    st_av_later: '充电桩当前离线，下次上线时会收到可用性变更。',
    st_lockouts_title: '安全停用记录',
    st_no_lockouts: '没有安全停用记录。',
    st_col_hazard: '隐患',
    st_col_locked: '停用',
    st_col_rectification: '整改',
    st_col_lifted: '解除',
    st_password_title: '充电桩密码',
    st_password_has: '该充电桩使用密码连接（安全等级 {profile}）。轮换后由系统生成新密码并发送给充电桩；密码不会显示，也不会以明文保存。',
    st_password_none: '该充电桩没有设置连接密码，无法轮换。',
    st_rotate: '轮换密码',
    st_rotating: '正在向充电桩发送新密码…',
    st_rotated_pending: '充电桩回复 {status}：新旧密码在充电桩用新密码重新连接前都有效，之后旧密码作废。',
    st_rotated_kept: '充电桩回复 {status}：密码未更换，原密码继续有效。',
    st_messages_title: '充电桩上报的消息',
    st_no_messages: '充电桩还没有上报其他消息。',
    st_col_action: '消息',
    st_col_received: '接收时间',
    st_col_payload: '内容',
    st_show_payload: '查看',
  },
  en: {
    st_live_connecting: 'Connecting to live updates…',
    st_live_on: 'Live',
    st_live_reconnecting: 'Live updates interrupted; reconnecting…',
    st_live_polling: 'The live feed was refused or is unavailable; the page reads again every 15 s. If this stays, reload the page or ask an administrator.',
    st_locked: 'Locked out',
    st_lockout_title: 'Safety lockout',
    st_lockout_open: 'This station is locked out: {hazard}',
    st_lockout_by: 'Locked by {by} at {at}; every start is refused until the lockout is lifted.',
    st_lockout_none: 'No safety lockout is in force.',
    st_hazard: 'Hazard (required)',
    st_lock: 'Lock out…',
    st_lock_confirm: 'Confirm lockout: running sessions are stopped',
    st_rectification: 'Rectification (required)',
    st_lift: 'Lift the lockout',
    st_e_hazard: 'Describe the hazard first, then lock the station out.',
    st_e_rectification: 'Describe what was done to remove the hazard first, then lift the lockout.',
    st_locked_done: 'Station {id} is locked out. {availability}',
    st_lifted_done: 'The lockout of station {id} is lifted. {availability}',
    st_av_sent: 'The station answered the availability change with {status}.',
    st_av_later: 'The station is offline; it gets the availability change when it connects.',
    st_lockouts_title: 'Lockout history',
    st_no_lockouts: 'No lockouts so far.',
    st_col_hazard: 'Hazard',
    st_col_locked: 'Locked',
    st_col_rectification: 'Rectification',
    st_col_lifted: 'Lifted',
    st_password_title: 'Station password',
    st_password_has: 'The station connects with a password (security profile {profile}). Rotating makes the CSMS generate a new one and send it to the station; the password is never shown nor stored in clear.',
    st_password_none: 'The station has no password, so there is nothing to rotate.',
    st_rotate: 'Rotate password',
    st_rotating: 'Sending the station its new password…',
    st_rotated_pending: 'The station answered {status}: the old and the new password both work until it connects with the new one, which retires the old one.',
    st_rotated_kept: 'The station answered {status}: the password was not changed; the old one stays valid.',
    st_messages_title: 'Messages the station reported',
    st_no_messages: 'The station has reported no other messages yet.',
    st_col_action: 'Message',
    st_col_received: 'Received',
    st_col_payload: 'Content',
    st_show_payload: 'Show',
  },
});

// --- the live feed ------------------------------------------------------------------------------

const LIVE_TYPES = ['station.connected', 'station.disconnected', 'station.booted', 'status.changed',
                    'transaction.started', 'transaction.ended', 'station.locked', 'station.unlocked'];
const POLL_MS = 15000; // when the feed is refused, read the page again this often
let streams = 0; // EventSources open now (on <body data-live-streams>, for tests and support)

function countStream(delta) {
  streams += delta;
  document.body.dataset.liveStreams = String(streams);
}

/**
 * Follow GET /api/v1/events while the page is the current one: each event (and each
 * reconnection, which may have missed some) calls `refresh` once the burst settles. The feed
 * is closed as soon as the page is left. A refused feed (the database down when it opened,
 * a proxy that does not pass it) falls back to reading again every 15 s. Returns the
 * indicator saying which of these holds.
 */
export function follow(isCurrent, refresh, stationId = null) {
  const indicator = h('p', { class: 'live muted', testid: 'live-state', role: 'status' });
  const show = (state) => {
    indicator.dataset.state = state;
    indicator.textContent = t(`st_live_${state}`);
  };
  let source = null;
  let alive = true;
  let pending = null;
  let poll = null;
  const watch = setInterval(() => stillShown(), 1000);
  const stop = () => {
    alive = false;
    if (source) {
      source.close();
      source = null;
      countStream(-1);
    }
    clearInterval(watch);
    clearInterval(poll);
    clearTimeout(pending);
    window.removeEventListener('hashchange', stillShown);
  };
  function stillShown() {
    if (alive && !isCurrent()) stop();
    return alive;
  }
  const soon = () => {
    if (pending !== null || !stillShown()) return;
    pending = setTimeout(() => {
      pending = null;
      if (stillShown()) refresh();
    }, 250);
  };
  const query = new URLSearchParams({ types: LIVE_TYPES.join(',') });
  if (stationId) query.set('station_id', stationId);
  source = new EventSource(`/api/v1/events?${query}`);
  countStream(1);
  show('connecting');
  source.onopen = () => {
    if (!stillShown()) return;
    show('on');
    soon(); // whatever happened between the page's first read and now
  };
  for (const type of [...LIVE_TYPES, 'lagged']) source.addEventListener(type, soon);
  source.onerror = () => {
    if (!stillShown()) return;
    if (source.readyState !== EventSource.CLOSED) {
      show('reconnecting'); // the browser tries again by itself
      return;
    }
    source = null;
    countStream(-1);
    show('polling');
    poll = setInterval(() => {
      if (stillShown()) refresh();
    }, POLL_MS);
  };
  window.addEventListener('hashchange', stillShown);
  return indicator;
}

// --- the list -----------------------------------------------------------------------------------

/** An OCPP connector status in the chosen language (the OCPP word when it has no entry). */
function connectorStatus(status) {
  if (!status) return '–';
  const key = `connector_${status}`;
  const word = t(key);
  return word === key ? status : word;
}

const filters = { search: '', county: '', connected: '' }; // kept while the page is open

function connection(station) {
  return h('span', { class: station.connected ? 'online' : 'offline',
                     dataset: { connected: String(station.connected) } },
           station.connected ? t('connected') : t('offline'));
}

function stateName(state) {
  return t(`state_${state}`) === `state_${state}` ? state : t(`state_${state}`);
}

function stateCell(station) {
  return h('td', { dataset: { locked: String(Boolean(station.locked)) } }, stateName(station.admin_state),
    station.locked ? h('strong', { class: 'lockout-tag' }, ' ', t('st_locked')) : null);
}

function matches(station, words) {
  const text = [station.id, station.site_name, station.address].join(' ').toLowerCase();
  return words.every((word) => text.includes(word));
}

export async function stationsPage(view, isCurrent) {
  // every station in scope, for the county choices; the filters go to the API
  const all = await call('GET', '/api/v1/stations?limit=1000');
  if (!isCurrent()) return;
  const counties = [...new Set(all.map((s) => s.county).filter(Boolean))].sort();
  const search = h('input', { type: 'search', testid: 'filter-search', value: filters.search });
  const county = h('select', { testid: 'filter-county' },
    h('option', { value: '' }, t('all_counties')),
    counties.map((name) => h('option', { value: name }, name)));
  county.value = counties.includes(filters.county) ? filters.county : '';
  const connected = h('select', { testid: 'filter-connected' },
    h('option', { value: '' }, t('all')),
    h('option', { value: 'true' }, t('connected')),
    h('option', { value: 'false' }, t('offline')));
  connected.value = filters.connected;
  const results = h('div', { testid: 'stations' });

  let asked = 0;
  const refresh = async () => {
    filters.search = search.value;
    filters.county = county.value;
    filters.connected = connected.value;
    const query = new URLSearchParams({ limit: '1000' });
    if (county.value) query.set('county', county.value);
    if (connected.value) query.set('connected', connected.value);
    const mine = ++asked;
    let rows = await call('GET', `/api/v1/stations?${query}`);
    if (mine !== asked || !isCurrent()) return;
    const words = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    rows = rows.filter((s) => matches(s, words));
    results.dataset.count = String(rows.length);
    results.replaceChildren(
      h('p', { class: 'muted', testid: 'stations-count' }, t('shown', { n: rows.length })),
      rows.length === 0
        ? h('p', { testid: 'stations-empty' }, t('none_found'))
        : table('stations-table',
          [t('col_id'), t('col_site'), t('col_county'), t('col_connection'), t('col_state'),
           t('col_last_seen')],
          rows.map((s) => h('tr', { testid: `station-${s.id}` },
            h('td', {}, h('a', { href: `#/stations/${encodeURIComponent(s.id)}`,
                                 testid: `station-link-${s.id}` }, s.id)),
            h('td', {}, s.site_name ?? ''),
            h('td', {}, s.county ?? ''),
            h('td', { testid: `station-${s.id}-connection` }, connection(s)),
            stateCell(s),
            h('td', {}, when(s.last_seen_at))))),
    );
  };
  const onChange = () => refresh().catch((error) => {
    if (!isCurrent()) return;
    results.replaceChildren(h('p', { class: 'result', dataset: { status: 'error' } },
                              explain(error, null)));
  });
  search.addEventListener('input', onChange);
  county.addEventListener('change', onChange);
  connected.addEventListener('change', onChange);

  await refresh();
  if (!isCurrent()) return;
  view.replaceChildren(
    h('h1', {}, t('stations_title')),
    follow(isCurrent, onChange),
    h('div', { class: 'card inline' },
      h('label', {}, t('search'), search),
      h('label', {}, t('county'), county),
      h('label', {}, t('connection'), connected)),
    results,
  );
}

// --- one station --------------------------------------------------------------------------------

function fields(station) {
  const rows = [
    ['f_connected', connection(station)],
    ['f_admin_state', stateName(station.admin_state)],
    ['f_county', station.county],
    ['f_site_name', station.site_name],
    ['f_address', station.address],
    ['f_owner_unit', station.owner_unit],
    ['f_ocpp_version', station.ocpp_version],
    ['f_vendor', station.vendor],
    ['f_model', station.model],
    ['f_serial_number', station.serial_number],
    ['f_firmware_version', station.firmware_version],
    ['f_rated_power_kw', station.rated_power_kw],
    ['f_last_seen_at', when(station.last_seen_at)],
  ];
  if (station.lockout) rows.push(['f_lockout', station.lockout.hazard]);
  return h('dl', { class: 'fields', testid: 'station-fields' },
    rows.map(([key, value]) => [h('dt', {}, t(key)),
                                h('dd', { testid: `field-${key.slice(2)}` }, value ?? '–')]));
}

/** What the station was told about its availability when a lockout was set or lifted. */
function availabilityText(answer) {
  const sent = answer.availability;
  return sent?.sent ? t('st_av_sent', { status: sent.status ?? '–' }) : t('st_av_later');
}

/**
 * The lockout box: an open lockout stands out with its hazard, and operators lift it with a
 * rectification; otherwise operators lock the station out after naming the hazard and
 * confirming (running sessions end).
 */
function lockoutBox(station, mayCommand, act) {
  const open = station.lockout;
  const box = h('div', { class: open ? 'card lockout-open' : 'card', testid: 'lockout',
                         dataset: { open: String(Boolean(open)) } });
  if (open) {
    box.append(
      h('p', {}, h('strong', { testid: 'lockout-hazard' }, t('st_lockout_open', { hazard: open.hazard }))),
      h('p', { class: 'muted' }, t('st_lockout_by', { by: open.locked_by, at: when(open.locked_at) })));
    if (!mayCommand) return box;
    const rectification = h('textarea', { testid: 'lockout-rectification', rows: '2', maxlength: '2000' });
    const lift = h('button', { type: 'button', class: 'primary', testid: 'lockout-lift' }, t('st_lift'));
    lift.addEventListener('click', () => act('lift', rectification.value.trim(), lift));
    box.append(h('label', {}, t('st_rectification'), rectification), lift);
    return box;
  }
  box.append(h('p', { class: 'muted', testid: 'lockout-none' }, t('st_lockout_none')));
  if (!mayCommand) return box;
  const hazard = h('textarea', { testid: 'lockout-hazard-input', rows: '2', maxlength: '2000' });
  const confirm = h('button', { type: 'button', class: 'danger', testid: 'lockout-confirm', hidden: true },
                    t('st_lock_confirm'));
  const start = h('button', { type: 'button', testid: 'lockout-start' }, t('st_lock'));
  start.addEventListener('click', () => {
    if (!hazard.value.trim()) {
      act('missing-hazard');
      return;
    }
    confirm.hidden = false;
  });
  confirm.addEventListener('click', () => act('lock', hazard.value.trim(), confirm));
  hazard.addEventListener('input', () => { confirm.hidden = true; });
  box.append(h('label', {}, t('st_hazard'), hazard), h('div', { class: 'inline' }, start, confirm));
  return box;
}

function lockoutHistory(rows) {
  if (rows.length === 0) return h('p', { class: 'muted', testid: 'lockouts-empty' }, t('st_no_lockouts'));
  return table('lockouts',
    [t('st_col_hazard'), t('st_col_locked'), t('st_col_rectification'), t('st_col_lifted')],
    rows.map((row) => h('tr', { testid: `lockout-${row.id}` },
      h('td', {}, row.hazard),
      h('td', {}, `${row.locked_by} · ${when(row.locked_at)}`),
      h('td', {}, row.rectification ?? '–'),
      h('td', {}, row.lifted_at ? `${row.lifted_by ?? ''} · ${when(row.lifted_at)}` : '–'))));
}

function messagesTable(rows) {
  if (rows.length === 0) return h('p', { class: 'muted', testid: 'messages-empty' }, t('st_no_messages'));
  return table('messages', [t('st_col_action'), t('st_col_received'), t('st_col_payload')],
    rows.map((row) => h('tr', { testid: `message-${row.id}` },
      h('td', {}, row.action),
      h('td', {}, when(row.received_at)),
      h('td', {}, h('details', {}, h('summary', {}, t('st_show_payload')),
                    h('pre', { class: 'answer' }, JSON.stringify(row.payload, null, 2)))))));
}

/** A part of the page that may be refused on its own (scoped accounts): its rows or why not. */
async function optional(path) {
  try {
    return { rows: await call('GET', path) };
  } catch (error) {
    if (error instanceof ApiError && error.sessionEnded) throw error;
    return { error };
  }
}

/** The page of one station; `session` decides which commands are offered. */
export async function stationPage(view, id, session, isCurrent, failed) {
  const path = `/api/v1/stations/${encodeURIComponent(id)}`;
  const mayCommand = session.role !== 'viewer';
  const result = h('div', { class: 'result', testid: 'command-result', role: 'status' });
  const lockoutResult = h('div', { class: 'result', testid: 'lockout-result', role: 'status' });
  const parts = {
    title: h('h1', { testid: 'station-title' }),
    fields: h('div'),
    lockout: h('div'),
    connectors: h('div'),
    transactions: h('div'),
    lockouts: h('div'),
    messages: h('div'),
  };

  const send = async (command, body, button) => {
    result.dataset.status = 'sending';
    result.replaceChildren(t('sending', { command: t(`cmd_${command}`) }));
    if (button) button.disabled = true;
    try {
      const answer = await call('POST', `${path}/commands/${command}`, body, 'command');
      const status = answer.response?.status;
      result.dataset.status = status ?? 'answered';
      result.replaceChildren(
        h('p', { testid: 'command-answer' }, status
          ? t('answer', { command: t(`cmd_${command}`), status })
          : t('answer_no_status', { command: t(`cmd_${command}`) })),
        h('pre', { class: 'answer' }, JSON.stringify(answer.response, null, 2)),
      );
    } catch (error) {
      if (error instanceof ApiError && error.sessionEnded) {
        failed(error);
        return;
      }
      result.dataset.status = 'error';
      result.replaceChildren(h('p', { testid: 'command-error' }, explain(error, session.scope)));
    } finally {
      if (button) button.disabled = false;
    }
  };
  const button = (label, testid, command, body) => {
    const element = h('button', { type: 'button', testid }, label);
    element.addEventListener('click', () => send(command, body(), element));
    return element;
  };

  const lockoutLine = resultLine(lockoutResult, session, failed, 'lockout-error');
  const act = async (what, text, control) => {
    if (what === 'missing-hazard' || (what === 'lock' && !text)) {
      lockoutLine.report('error', t('st_e_hazard'), 'lockout-error');
      return;
    }
    if (what === 'lift' && !text) {
      lockoutLine.report('error', t('st_e_rectification'), 'lockout-error');
      return;
    }
    control.disabled = true;
    try {
      const answer = what === 'lock'
        ? await call('POST', `${path}/lockout`, { hazard: text }, 'lockout')
        : await call('POST', `${path}/lockout/lift`, { rectification: text }, 'lockout');
      await load();
      lockoutLine.report('ok', t(what === 'lock' ? 'st_locked_done' : 'st_lifted_done',
                                 { id, availability: availabilityText(answer) }), 'lockout-answer');
    } catch (error) {
      lockoutLine.problem(error);
    } finally {
      control.disabled = false;
    }
  };

  const connectorPart = (connectors) => {
    const headers = [t('col_evse'), t('col_connector'), t('col_status'), t('col_error'), t('col_since')];
    if (mayCommand) headers.push(t('col_actions'));
    if (connectors.length === 0) {
      return h('p', { class: 'muted', testid: 'connectors-empty' }, t('no_connectors'));
    }
    const row = (c) => h('tr', { testid: `connector-${c.evse_id}-${c.connector_id}` },
      h('td', {}, String(c.evse_id)),
      h('td', {}, String(c.connector_id)),
      h('td', { testid: `connector-${c.evse_id}-${c.connector_id}-status`,
                dataset: { status: c.status ?? '' } }, connectorStatus(c.status)),
      h('td', {}, c.error_code ?? ''),
      h('td', {}, when(c.status_at)),
      mayCommand
        ? h('td', {}, c.evse_id > 0
          ? button(t('unlock'), `unlock-${c.evse_id}-${c.connector_id}`, 'unlock-connector',
                   () => ({ evse_id: c.evse_id, connector_id: c.connector_id || 1 }))
          : null)
        : null);
    return table('connectors', headers, connectors.map(row));
  };

  const transactionPart = (transactions) => {
    if (transactions.length === 0) {
      return h('p', { class: 'muted', testid: 'transactions-empty' }, t('no_transactions'));
    }
    const headers = [t('col_tx'), t('col_connector'), t('col_token'), t('col_started'),
                     t('col_stopped'), t('col_energy')];
    if (mayCommand) headers.push(t('col_actions'));
    return table('transactions', headers, transactions.map((tx) => {
      const open = tx.stopped_at === null && !tx.refused;
      return h('tr', { testid: `transaction-${tx.id}`, dataset: { open: String(open) } },
        h('td', {}, String(tx.id)),
        h('td', {}, String(tx.evse_id ?? tx.connector_id ?? '')),
        h('td', {}, tx.id_token ?? ''),
        h('td', {}, when(tx.started_at)),
        h('td', {}, open ? t('tx_open') : tx.refused ? t('tx_refused') : when(tx.stopped_at)),
        h('td', {}, tx.energy_kwh ?? '–'),
        mayCommand
          ? h('td', {}, open ? button(t('remote_stop'), `stop-${tx.id}`, 'remote-stop',
                                      () => ({ transaction_id: tx.id })) : null)
          : null);
    }));
  };

  const orWhy = (answer, draw) => (answer.error
    ? h('p', { class: 'muted' }, explain(answer.error, session.scope))
    : draw(answer.rows));

  /** Read the station again and redraw the parts that change (not the command forms). */
  let asked = 0;
  const load = async () => {
    const mine = ++asked;
    const [station, transactions, lockouts, messages] = await Promise.all([
      call('GET', path),
      call('GET', `/api/v1/transactions?station_id=${encodeURIComponent(id)}&limit=20`),
      optional(`${path}/lockouts?limit=20`),
      optional(`${path}/messages?limit=20`),
    ]);
    if (mine !== asked || !isCurrent()) return null;
    parts.title.textContent = t('station_title', { id: station.id });
    parts.fields.replaceChildren(fields(station));
    const lockoutNow = String(station.lockout?.id ?? 'none');
    if (parts.lockout.dataset.shown !== lockoutNow) { // keep what is being typed there
      parts.lockout.dataset.shown = lockoutNow;
      parts.lockout.replaceChildren(lockoutBox(station, mayCommand, act));
    }
    parts.connectors.replaceChildren(connectorPart(station.connectors ?? []));
    parts.transactions.replaceChildren(transactionPart(transactions));
    parts.lockouts.replaceChildren(orWhy(lockouts, lockoutHistory));
    parts.messages.replaceChildren(orWhy(messages, messagesTable));
    return station;
  };
  const reload = () => load().catch((error) => {
    if (isCurrent()) failed(error);
  });

  const station = await load();
  if (station === null) return;
  const sections = [
    h('p', {}, h('a', { href: '#/stations', testid: 'back' }, t('back_to_list'))),
    parts.title,
    follow(isCurrent, reload, id),
    parts.fields,
    h('h2', {}, t('st_lockout_title')),
    parts.lockout,
    lockoutResult,
    h('h2', {}, t('connectors_title')),
    parts.connectors,
    h('h2', {}, t('transactions_title')),
    parts.transactions,
    h('h2', {}, t('commands_title')),
  ];
  if (!mayCommand) {
    sections.push(h('p', { class: 'muted', testid: 'commands-viewer' }, t('viewer_no_commands')));
  } else {
    const missingToken = () => {
      result.dataset.status = 'error';
      result.replaceChildren(t('e_missing_token'));
    };
    sections.push(commandsCard(station, send, button, missingToken));
  }
  sections.push(result);
  if (session.role === 'admin') sections.push(...passwordPart(station, path, session, failed));
  sections.push(h('h2', {}, t('st_lockouts_title')), parts.lockouts,
                h('h2', {}, t('st_messages_title')), parts.messages);
  view.replaceChildren(...sections);
}

/** Reset, availability and remote start; the EVSEs offered are those the station reported. */
function commandsCard(station, send, button, missingToken) {
  const connectors = station.connectors ?? [];
  const evses = [...new Set(connectors.map((c) => c.evse_id).filter((e) => e > 0))];
  if (evses.length === 0) evses.push(1);
  const evseChoice = (testid, withStation) => h('select', { testid },
    withStation ? h('option', { value: '0' }, t('whole_station')) : null,
    evses.map((e) => h('option', { value: String(e) }, String(e))));
  const availabilityEvse = evseChoice('availability-evse', true);
  const token = h('input', { testid: 'start-token', autocomplete: 'off' });
  const startEvse = evseChoice('start-evse', false);
  const start = h('button', { type: 'button', testid: 'remote-start' }, t('start'));
  start.addEventListener('click', () => {
    if (!token.value.trim()) {
      missingToken();
      return;
    }
    send('remote-start', { id_token: token.value.trim(), evse_id: Number(startEvse.value) }, start);
  });
  return h('div', { class: 'card', testid: 'commands' },
    h('div', { class: 'inline' },
      button(t('reset_soft'), 'reset-soft', 'reset', () => ({ kind: 'soft' })),
      button(t('reset_hard'), 'reset-hard', 'reset', () => ({ kind: 'hard' }))),
    h('h3', {}, t('availability')),
    h('div', { class: 'inline' },
      h('label', {}, t('evse'), availabilityEvse),
      button(t('operative'), 'availability-operative', 'change-availability',
             () => ({ operative: true, evse_id: Number(availabilityEvse.value) })),
      button(t('inoperative'), 'availability-inoperative', 'change-availability',
             () => ({ operative: false, evse_id: Number(availabilityEvse.value) }))),
    h('h3', {}, t('remote_start')),
    h('div', { class: 'inline' },
      h('label', {}, t('id_token'), token),
      h('label', {}, t('evse'), startEvse),
      start));
}

/** Admins rotate a station's password; the answer says what holds now, never the password. */
function passwordPart(station, path, session, failed) {
  const title = h('h2', {}, t('st_password_title'));
  if (!station.has_password) {
    return [title, h('p', { class: 'muted', testid: 'password-none' }, t('st_password_none'))];
  }
  const outcome = h('div', { class: 'result', testid: 'rotate-result', role: 'status' });
  const { report, problem } = resultLine(outcome, session, failed, 'rotate-error');
  const rotate = h('button', { type: 'button', testid: 'rotate-password' }, t('st_rotate'));
  rotate.addEventListener('click', async () => {
    rotate.disabled = true;
    report('sending', t('st_rotating'), 'rotate-sending');
    try {
      const answer = await call('POST', `${path}/commands/rotate-password`, {}, 'command');
      report(answer.pending ? 'ok' : 'refused',
             t(answer.pending ? 'st_rotated_pending' : 'st_rotated_kept', { status: answer.status }),
             'rotate-answer');
    } catch (error) {
      problem(error);
    } finally {
      rotate.disabled = false;
    }
  });
  return [title,
    h('div', { class: 'card' },
      h('p', { class: 'muted' }, t('st_password_has', { profile: station.security_profile ?? '–' })),
      rotate),
    outcome];
}
