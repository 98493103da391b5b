/*
 * The map (#/map): every station the account may see, placed by its registered coordinates
 * (WGS-84 latitude/longitude of GET /api/v1/stations, which holds the account's scope) on an
 * SVG the page draws itself: no map tiles, so it works on a network without internet access.
 * A dot's colour says charging (an open session), connected or offline; a red ring marks a
 * safety lockout. Clicking a dot opens the station. The map follows the live event feed.
 */

import { call } from './api.js';
import { h, table } from './dom.js';
import { addWords, t } from './i18n.js';
import { follow } from './stations.js';

addWords({
  zh: {
    nav_map: '地图',
    map_title: '地图',
    mp_charging: '充电中',
    mp_connected: '在线',
    mp_offline: '离线',
    mp_locked: '安全停用',
    mp_help: '按登记的经纬度（WGS-84）绘制；点击圆点打开该充电站。不加载在线地图，离线网络中也可使用。',
    mp_none: '您的账号范围内还没有充电站。',
    mp_no_coordinates: '没有充电站登记了经纬度，无法绘制。请在充电站登记信息中填写经纬度。',
    mp_unplaced_title: '未登记经纬度的充电站（{n} 个）',
    mp_unplaced_help: '在充电站的登记信息中填写经纬度后即可显示在地图上。',
    mp_dot: '{id}（{site}）：{state}',
  },
  en: {
    nav_map: 'Map',
    map_title: 'Map',
    mp_charging: 'Charging',
    mp_connected: 'Connected',
    mp_offline: 'Offline',
    mp_locked: 'Locked out',
    mp_help: 'Drawn from the registered coordinates (WGS-84); click a dot to open the station. No online map is loaded, so it works without internet access.',
    mp_none: 'There are no stations in your account\'s scope yet.',
    mp_no_coordinates: 'No station has registered coordinates, so there is nothing to draw. Add latitude and longitude to the stations\' registration.',
    mp_unplaced_title: 'Stations without coordinates ({n})',
    mp_unplaced_help: 'Add latitude and longitude to a station\'s registration to place it on the map.',
    mp_dot: '{id} ({site}): {state}',
  },
});

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 800;
const MARGIN = 40;
const MAX_INNER_HEIGHT = 560;
const STATES = ['charging', 'connected', 'offline'];
const COLOURS = { charging: '#0b5cad', connected: '#1b7f3b', offline: '#8a94a6' };

/** An SVG element (h() makes HTML ones, which an <svg> does not draw). */
function svg(tag, attrs = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null) continue;
    if (name === 'testid') element.dataset.testid = value;
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

function stateOf(station, charging) {
  if (!station.connected) return 'offline';
  return charging.has(station.id) ? 'charging' : 'connected';
}

function placed(station) {
  return Number.isFinite(station.latitude) && Number.isFinite(station.longitude);
}

/**
 * An equirectangular projection of the stations' bounding box (a degree of longitude is
 * cos(latitude) of a degree of latitude), padded so that one station alone still has room.
 */
function projection(points) {
  const lats = points.map((s) => s.latitude);
  const lons = points.map((s) => s.longitude);
  const pad = (lo, hi) => {
    const span = Math.max(hi - lo, 0.01);
    return [lo - span * 0.08 - (span - (hi - lo)) / 2, hi + span * 0.08 + (span - (hi - lo)) / 2];
  };
  const [south, north] = pad(Math.min(...lats), Math.max(...lats));
  const [west, east] = pad(Math.min(...lons), Math.max(...lons));
  const squeeze = Math.cos(((south + north) / 2) * Math.PI / 180);
  const scale = Math.min((WIDTH - 2 * MARGIN) / ((east - west) * squeeze),
                         MAX_INNER_HEIGHT / (north - south));
  const height = Math.round(Math.max((north - south) * scale, 240)) + 2 * MARGIN;
  const left = (WIDTH - (east - west) * squeeze * scale) / 2;
  const middle = (south + north) / 2;
  return {
    height, south, north,
    west: west - left / (squeeze * scale), // the edges of the picture, for the grid
    east: east + left / (squeeze * scale),
    x: (lon) => left + (lon - west) * squeeze * scale,
    y: (lat) => height / 2 - (lat - middle) * scale,
  };
}

/** Light lines every so many degrees, labelled at the edges, so the dots have a frame. */
function graticule(p) {
  const step = (span) => [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5]
    .find((s) => span / s <= 6) ?? 10;
  const lines = [];
  const lonStep = step(p.east - p.west);
  for (let lon = Math.ceil(p.west / lonStep) * lonStep; lon <= p.east; lon += lonStep) {
    const x = p.x(lon);
    if (x < MARGIN / 2 || x > WIDTH - MARGIN / 2) continue;
    lines.push(svg('line', { x1: x, x2: x, y1: 0, y2: p.height, class: 'grid' }),
               svg('text', { x: x + 2, y: p.height - 4, class: 'grid-label' }, `${lon.toFixed(3)}°E`));
  }
  const latStep = step(p.north - p.south);
  for (let lat = Math.ceil(p.south / latStep) * latStep; lat <= p.north; lat += latStep) {
    const y = p.y(lat);
    if (y < MARGIN / 2 || y > p.height - MARGIN / 2) continue;
    lines.push(svg('line', { x1: 0, x2: WIDTH, y1: y, y2: y, class: 'grid' }),
               svg('text', { x: 2, y: y - 3, class: 'grid-label' }, `${lat.toFixed(3)}°N`));
  }
  return lines;
}

function open(id) {
  location.hash = `#/stations/${encodeURIComponent(id)}`;
}

function dot(station, state, p, labelled) {
  const x = p.x(station.longitude);
  const y = p.y(station.latitude);
  const name = t('mp_dot', { id: station.id, site: station.site_name ?? '–', state: t(`mp_${state}`) })
    + (station.locked ? ` · ${t('mp_locked')}` : '');
  return svg('g', { class: 'dot', testid: `map-dot-${station.id}`, tabindex: '0', role: 'link',
                    'aria-label': name,
                    dataset: { state, locked: String(Boolean(station.locked)) },
                    onclick: () => open(station.id),
                    onkeydown: (event) => { if (event.key === 'Enter') open(station.id); } },
    svg('title', {}, name),
    station.locked ? svg('circle', { cx: x, cy: y, r: 11, class: 'lock-ring' }) : null,
    svg('circle', { cx: x, cy: y, r: 7, fill: COLOURS[state] }),
    labelled ? svg('text', { x: x + 10, y: y + 4, class: 'dot-label' }, station.id) : null);
}

function legend(counts, locked) {
  return h('div', { class: 'inline map-legend' },
    STATES.map((state) => h('span', { testid: `map-count-${state}` },
      h('span', { class: 'swatch', style: `background:${COLOURS[state]}` }),
      `${t(`mp_${state}`)} ${counts[state]}`)),
    h('span', { testid: 'map-count-locked' },
      h('span', { class: 'swatch lock-swatch' }), `${t('mp_locked')} ${locked}`));
}

function unplacedList(rows) {
  if (rows.length === 0) return null;
  return h('div', { testid: 'map-unplaced' },
    h('h2', {}, t('mp_unplaced_title', { n: rows.length })),
    h('p', { class: 'muted' }, t('mp_unplaced_help')),
    table('map-unplaced-table', [t('col_id'), t('col_site'), t('col_county')],
      rows.map((s) => h('tr', {},
        h('td', {}, h('a', { href: `#/stations/${encodeURIComponent(s.id)}` }, s.id)),
        h('td', {}, s.site_name ?? ''),
        h('td', {}, s.county ?? '')))));
}

/** The map's picture and counts for the stations and the ids with an open session. */
function draw(stations, charging) {
  const counts = { charging: 0, connected: 0, offline: 0 };
  for (const s of stations) counts[stateOf(s, charging)] += 1;
  const locked = stations.filter((s) => s.locked).length;
  const points = stations.filter(placed);
  const parts = [legend(counts, locked)];
  if (stations.length === 0) {
    parts.push(h('p', { class: 'muted', testid: 'map-empty' }, t('mp_none')));
  } else if (points.length === 0) {
    parts.push(h('p', { class: 'muted', testid: 'map-empty' }, t('mp_no_coordinates')));
  } else {
    const p = projection(points);
    // charging dots last, so they are drawn on top of their neighbours
    const order = [...points].sort((a, b) => STATES.indexOf(stateOf(b, charging))
                                            - STATES.indexOf(stateOf(a, charging)));
    parts.push(svg('svg', { viewBox: `0 0 ${WIDTH} ${p.height}`, class: 'station-map',
                            testid: 'map-svg', role: 'img', 'aria-label': t('map_title'),
                            dataset: { points: String(points.length) } },
      svg('rect', { x: 0, y: 0, width: WIDTH, height: p.height, class: 'map-ground' }),
      graticule(p),
      order.map((s) => dot(s, stateOf(s, charging), p, points.length <= 40))));
  }
  parts.push(unplacedList(stations.filter((s) => !placed(s))));
  return parts;
}

export async function mapPage(view, session, isCurrent, failed) {
  const area = h('div', { testid: 'map' });
  let asked = 0;
  const load = async () => {
    const mine = ++asked;
    const [stations, open] = await Promise.all([
      call('GET', '/api/v1/stations?limit=1000'),
      call('GET', '/api/v1/transactions?status=open&refused=false&limit=1000'),
    ]);
    if (mine !== asked || !isCurrent()) return;
    const charging = new Set(open.map((tx) => tx.station_id));
    area.dataset.count = String(stations.length);
    area.replaceChildren(...draw(stations, charging).filter(Boolean));
  };
  await load();
  if (!isCurrent()) return;
  const reload = () => load().catch((error) => {
    if (isCurrent()) failed(error);
  });
  view.replaceChildren(
    h('h1', {}, t('map_title')),
    h('p', { class: 'muted' }, t('mp_help')),
    follow(isCurrent, reload),
    area,
  );
}
