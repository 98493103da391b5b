/*
 * The stations list (search, county and connection filters) and one station's page: its
 * fields, connectors, recent transactions and the commands an operator sends.
 */

import { ApiError, call, explain } from './api.js';
import { h, table } from './dom.js';
import { t, when } from './i18n.js';

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
            h('td', {}, connection(s)),
            h('td', {}, stateName(s.admin_state)),
            h('td', {}, when(s.last_seen_at))))),
    );
  };
  const onChange = () => refresh().catch((error) => {
    results.replaceChildren(h('p', { class: 'result', dataset: { status: 'error' } },
                              explain(error, null)));
  });
  search.addEventListener('input', onChange);
  county.addEventListener('change', onChange);
  connected.addEventListener('change', onChange);

  view.replaceChildren(
    h('h1', {}, t('stations_title')),
    h('div', { class: 'card inline' },
      h('label', {}, t('search'), search),
      h('label', {}, t('county'), county),
      h('label', {}, t('connection'), connected)),
    results,
  );
  await refresh();
}

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

/** The page of one station; `session` decides whether commands are offered. */
export async function stationPage(view, id, session, isCurrent, failed) {
  const path = `/api/v1/stations/${encodeURIComponent(id)}`;
  const [station, transactions] = await Promise.all([
    call('GET', path),
    call('GET', `/api/v1/transactions?station_id=${encodeURIComponent(id)}&limit=20`),
  ]);
  if (!isCurrent()) return;
  const mayCommand = session.role !== 'viewer';
  const result = h('div', { class: 'result', testid: 'command-result', role: 'status' });

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

  const connectors = station.connectors ?? [];
  const connectorRows = connectors.map((c) => h('tr', { testid: `connector-${c.evse_id}-${c.connector_id}` },
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
      : null));
  const connectorHeaders = [t('col_evse'), t('col_connector'), t('col_status'), t('col_error'),
                            t('col_since')];
  if (mayCommand) connectorHeaders.push(t('col_actions'));

  const txHeaders = [t('col_tx'), t('col_connector'), t('col_token'), t('col_started'),
                     t('col_stopped'), t('col_energy')];
  if (mayCommand) txHeaders.push(t('col_actions'));
  const txRows = transactions.map((tx) => {
    const open = tx.stopped_at === null && !tx.refused;
    return h('tr', { testid: `transaction-${tx.id}` },
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
  });

  const sections = [
    h('p', {}, h('a', { href: '#/stations', testid: 'back' }, t('back_to_list'))),
    h('h1', { testid: 'station-title' }, t('station_title', { id: station.id })),
    fields(station),
    h('h2', {}, t('connectors_title')),
    connectors.length
      ? table('connectors', connectorHeaders, connectorRows)
      : h('p', { class: 'muted', testid: 'connectors-empty' }, t('no_connectors')),
    h('h2', {}, t('transactions_title')),
    transactions.length
      ? table('transactions', txHeaders, txRows)
      : h('p', { class: 'muted', testid: 'transactions-empty' }, t('no_transactions')),
    h('h2', {}, t('commands_title')),
  ];
  if (!mayCommand) {
    sections.push(h('p', { class: 'muted', testid: 'commands-viewer' }, t('viewer_no_commands')));
  } else {
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
        result.dataset.status = 'error';
        result.replaceChildren(t('e_missing_token'));
        return;
      }
      send('remote-start', { id_token: token.value.trim(), evse_id: Number(startEvse.value) }, start);
    });
    sections.push(h('div', { class: 'card', testid: 'commands' },
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
        start)));
  }
  sections.push(result);
  view.replaceChildren(...sections);
}
