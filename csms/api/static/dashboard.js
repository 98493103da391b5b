/*
 * The plan-monitoring dashboard of the CSMS (served at /dashboard).
 *
 * Everything shown comes from the CSMS's own API, read with a viewer key in the
 * Authorization header (the page itself holds no data):
 *   GET /api/v1/monitoring/live          live counts (stations, connectors, sessions)
 *   GET /api/v1/monitoring/progress      the plan's figures: county new piles, coverage...
 *   GET /api/v1/monitoring/utilization   daily time utilization and kWh by county
 *   GET /api/v1/monitoring/map           stations with coordinates and live state, and the
 *                                        county boundaries of the plan's city to draw them on
 *   GET /api/v1/reports/monthly          the monthly reports filed; GET .../{month}/link
 *                                        makes a short-lived signed link that opens one in a
 *                                        new tab (a browser tab cannot send the key)
 *   GET /dashboard/labels.json           names of figure keys, the monthly report's table
 *   GET /api/v1/lockouts?open=true       safety lockouts in force
 *   GET /api/v1/platforms/health         push health per monitoring platform (T/CEC 102)
 *   GET /api/v1/events                   the live feed (Server-Sent Events, read with fetch()
 *                                        because EventSource cannot send the key)
 * No dependency but Apache ECharts (vendor/echarts.min.js) and the vendored county map
 * (vendor/maps/). Options in the address:
 *   ?lang=zh|en   language (default zh; the toggle remembers the choice)
 *   ?live=0       no live feed (printing, snapshots, headless screenshots)
 *   #key=...      the viewer key (kept in this browser's localStorage, never sent as a URL)
 *
 * An ES module: dashboard/i18n.js holds the page's words, dashboard/names.js the names of
 * figure keys.
 */
import { I18N } from './dashboard/i18n.js';
import { loadNames, namer } from './dashboard/names.js';

(function () {
  const KEY_STORAGE = 'csms.dashboard.key';
  const LANG_STORAGE = 'csms.dashboard.lang';
  const REFRESH_MS = 60 * 1000; // everything, every minute
  const DEBOUNCE_MS = 1000; // a burst of events refreshes once
  const TREND_DAYS = 30;
  // Feed events that change what the live panels show, and which panels they touch.
  const EVENT_PANELS = {
    'station.connected': ['live', 'map'],
    'station.disconnected': ['live', 'map'],
    'station.booted': ['live', 'map'],
    'status.changed': ['live', 'map'],
    'transaction.started': ['live', 'map'],
    'transaction.ended': ['live', 'map'],
    'station.locked': ['live', 'map', 'lockouts'],
    'station.unlocked': ['live', 'map', 'lockouts'],
  };
  // Feed events that carry what the platforms panel shows (applied as they come, no reload):
  // a health snapshot per platform every ~10 s, and each change of a platform's push outcome.
  const PLATFORM_EVENTS = ['platform.health', 'platform.push'];
  const TICK_MS = 1000; // ages ("12 s ago") are redrawn locally; nothing is fetched
  const SENDER_STALE_MS = 30 * 1000; // a sending node's token view, kept while it reports
  const STATUS_COLOUR = { met: '#2e7d32', on_track: '#f9a825', behind: '#c62828' };
  const STATE_COLOUR = {
    charging: '#1565c0',
    available: '#2e7d32',
    offline: '#9e9e9e',
    faulted: '#ef6c00',
    locked: '#c62828',
  };
  const STATES = ['charging', 'available', 'faulted', 'offline', 'locked'];
  const STATUSES = ['met', 'on_track', 'behind'];
  // One colour per county, the same in every chart (line and bars of the trend alike).
  const COUNTY_COLOURS = ['#1565c0', '#2e7d32', '#ef6c00', '#6a1b9a', '#00838f', '#ad1457',
    '#5d4037', '#546e7a', '#c0ca33', '#8d6e63'];
  // Figure kinds of the coverage panel (csms/monitoring/progress_model.py FigureKind).
  const COVERAGE_KINDS = [
    'counties_covered',
    'townships_covered',
    'township_seat_piles',
    'villages_covered',
    'highway_fast_coverage',
    'highway_space_share',
    'trunk_road_covered',
    'trunk_road_space_ratio',
    'tourist_road_covered',
    'charging_distance',
  ];

  // --- state ---------------------------------------------------------------------------

  const params = new URLSearchParams(window.location.search);
  const state = {
    lang: pickLanguage(),
    key: null,
    live: params.get('live') !== '0',
    data: {}, // the last answer of each endpoint: live, progress, map, utilization, lockouts
    year: null, // the year the county chart shows
    charts: {},
    refreshTimer: null,
    debounceTimer: null,
    pending: new Set(),
    feed: null, // AbortController of the live feed
    generation: 0, // bumped on every new key: stale answers are ignored
    skew: 0, // the CSMS's clock minus this browser's, in ms (for ages)
    skewFromFeed: false, // measured on a feed event (ms), not from a Date header (s)
    reach: {}, // platform id -> {reachable, at}: the last push outcome the feed told
    names: null, // /dashboard/labels.json: names of figure keys
    timeZone: null, // the CSMS's time zone (IANA), from the utilization answer
    maps: {}, // county map address -> the name it was registered under with ECharts
  };

  function pickLanguage() {
    const asked = params.get('lang');
    if (asked === 'zh' || asked === 'en') return asked;
    const stored = safeStorage('get', LANG_STORAGE);
    return stored === 'en' ? 'en' : 'zh';
  }

  function safeStorage(op, name, value) {
    try {
      if (op === 'get') return window.localStorage.getItem(name);
      if (op === 'set') window.localStorage.setItem(name, value);
      if (op === 'remove') window.localStorage.removeItem(name);
    } catch (e) {
      // storage disabled (private mode, file://): the key lives for this page only
    }
    return null;
  }

  const { keyName, unitName, missingText, formatFigure } = namer(() => state);

  function statusName(status) {
    return state.names ? keyName('status', status) : t('status_' + status);
  }

  function t(name) {
    const table = I18N[state.lang];
    return name in table ? table[name] : I18N.zh[name] || name;
  }

  function $(selector, root) {
    return (root || document).querySelector(selector);
  }

  function byTestId(id) {
    return document.querySelector('[data-testid="' + cssEscape(id) + '"]');
  }

  function cssEscape(text) {
    return window.CSS && CSS.escape ? CSS.escape(text) : String(text).replace(/["\\]/g, '\\$&');
  }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined) continue;
      if (name === 'text') node.textContent = value;
      else if (name === 'class') node.className = value;
      else node.setAttribute(name, value);
    }
    for (const child of children || []) node.append(child);
    return node;
  }

  // --- numbers -------------------------------------------------------------------------

  function localDate(day) {
    const pad = (n) => String(n).padStart(2, '0');
    return day.getFullYear() + '-' + pad(day.getMonth() + 1) + '-' + pad(day.getDate());
  }

  // A moment in the CSMS's time zone (the one its days, reports and plan are counted in),
  // once an answer named it; the browser's own zone until then.
  function formatTime(iso) {
    if (!iso) return '–';
    const when = new Date(iso);
    if (Number.isNaN(when.getTime())) return String(iso);
    const options = { hour12: false };
    if (state.timeZone) options.timeZone = state.timeZone;
    try {
      return when.toLocaleString(state.lang === 'zh' ? 'zh-CN' : 'en-GB', options);
    } catch (e) {
      return when.toLocaleString(state.lang === 'zh' ? 'zh-CN' : 'en-GB', { hour12: false });
    }
  }

  // --- the API -------------------------------------------------------------------------

  class AuthError extends Error {
    constructor(status) {
      super('HTTP ' + status);
      this.status = status;
    }
  }

  async function api(path, onResponse) {
    const response = await fetch(path, {
      headers: { Authorization: 'Bearer ' + state.key, Accept: 'application/json' },
      cache: 'no-store',
      credentials: 'omit',
    });
    if (response.status === 401 || response.status === 403) throw new AuthError(response.status);
    if (!response.ok) {
      let detail = '';
      try {
        const body = await response.json();
        detail = typeof body.detail === 'string' ? body.detail : JSON.stringify(body.detail);
      } catch (e) {
        detail = response.statusText;
      }
      throw new Error('HTTP ' + response.status + (detail ? ': ' + detail : ''));
    }
    if (onResponse) onResponse(response);
    return response.json();
  }

  // Each loader fetches one endpoint and redraws the panels that use it.
  const LOADERS = {
    live: async () => {
      state.data.live = await api('/api/v1/monitoring/live');
      renderLive();
    },
    progress: async () => {
      state.data.progress = await api('/api/v1/monitoring/progress');
      renderProgress();
      renderCoverage();
      renderFigures();
      // county names in the language shown come from the figures
      if (state.data.utilization) renderUtilization();
      if (state.data.lockouts) renderLockouts();
    },
    utilization: async () => {
      // Days are local to the CSMS's time zone, which may be ahead of this browser's: ask up to
      // tomorrow (days not begun yet are left out) and show the last 30 days the answer has.
      const today = new Date();
      const since = new Date(
        today.getFullYear(),
        today.getMonth(),
        today.getDate() - (TREND_DAYS - 1),
      );
      const until = new Date(today.getFullYear(), today.getMonth(), today.getDate() + 1);
      const query = new URLSearchParams({
        by: 'county',
        granularity: 'day',
        since: localDate(since),
        until: localDate(until),
      });
      state.data.utilization = await api('/api/v1/monitoring/utilization?' + query);
      state.timeZone = state.data.utilization.time_zone || state.timeZone;
      renderUtilization();
    },
    map: async () => {
      const answer = await api('/api/v1/monitoring/map');
      await loadBoundaries(answer.boundaries);
      state.data.map = answer;
      renderMap();
      if (state.data.lockouts) renderLockouts(); // a lockout's county is its station's
    },
    lockouts: async () => {
      state.data.lockouts = await api('/api/v1/lockouts?open=true');
      renderLockouts();
    },
    reports: async () => {
      state.data.reports = await api('/api/v1/reports/monthly');
      renderReports();
    },
    platforms: async () => {
      const rows = await api('/api/v1/platforms/health', serverTimeFromHeader);
      state.data.platforms = rows.map((row) => mergedHealth(row, null));
      renderPlatforms();
    },
  };
  const PANEL_OF = {
    live: ['panel-live'],
    progress: ['panel-progress', 'panel-coverage', 'panel-figures'],
    utilization: ['panel-utilization'],
    map: ['panel-map'],
    lockouts: ['panel-lockouts'],
    platforms: ['panel-platforms'],
    reports: ['panel-reports'],
  };

  async function load(names) {
    const generation = state.generation;
    const results = await Promise.allSettled(names.map((name) => LOADERS[name]()));
    if (generation !== state.generation) return; // the key changed meanwhile
    let failed = 0;
    results.forEach((result, i) => {
      const name = names[i];
      if (result.status === 'fulfilled') {
        PANEL_OF[name].forEach((id) => panelError(id, null));
        return;
      }
      failed += 1;
      if (result.reason instanceof AuthError) return;
      PANEL_OF[name].forEach((id) =>
        panelError(id, t('load_failed') + ': ' + result.reason.message),
      );
    });
    const auth = results.find((r) => r.status === 'rejected' && r.reason instanceof AuthError);
    if (auth) {
      askForKey(auth.reason.status === 403 ? 'key_forbidden' : 'key_rejected');
      return;
    }
    document.body.dataset.state = failed ? 'partial' : 'ready';
    $('#updated-at').textContent = t('updated') + ' ' + formatTime(new Date().toISOString());
    $('#updated-at').dataset.at = new Date().toISOString();
  }

  function loadAll() {
    window.clearTimeout(state.refreshTimer);
    return load(Object.keys(LOADERS)).finally(() => {
      if (state.key) state.refreshTimer = window.setTimeout(loadAll, REFRESH_MS);
    });
  }

  // Feed events come in bursts (a station boots: several status changes): refresh once.
  function scheduleRefresh(names) {
    names.forEach((name) => state.pending.add(name));
    window.clearTimeout(state.debounceTimer);
    state.debounceTimer = window.setTimeout(() => {
      const due = Array.from(state.pending);
      state.pending.clear();
      load(due);
    }, DEBOUNCE_MS);
  }

  function panelError(panelId, message) {
    const node = $('#' + panelId + ' .panel-error');
    if (!node) return;
    node.hidden = !message;
    node.textContent = message || '';
  }

  function showError(message) {
    const node = $('#error');
    node.hidden = !message;
    node.textContent = message || '';
  }

  // --- the key -------------------------------------------------------------------------

  function keyFromFragment() {
    // #key=... (bookmarks, tests): read it, keep it, and take it out of the address bar
    const fragment = new URLSearchParams(window.location.hash.replace(/^#/, ''));
    const key = fragment.get('key');
    if (!key) return null;
    const clean = window.location.pathname + window.location.search;
    try {
      window.history.replaceState(null, '', clean);
    } catch (e) {
      // file:// pages may refuse; the key still works
    }
    return key.trim();
  }

  function useKey(key) {
    state.key = key;
    state.generation += 1;
    safeStorage('set', KEY_STORAGE, key);
    $('#key-form').hidden = true;
    $('#panels').hidden = false;
    showError(null);
    document.body.dataset.state = 'loading';
    loadAll();
    startFeed();
  }

  function askForKey(reason) {
    state.key = null;
    state.generation += 1;
    safeStorage('remove', KEY_STORAGE);
    stopFeed();
    window.clearTimeout(state.refreshTimer);
    window.clearTimeout(state.debounceTimer);
    document.body.dataset.state = 'needs-key';
    showError(t(reason));
    $('#key-form').hidden = false;
    $('#key-input').value = '';
    $('#key-input').focus();
  }

  // --- the live feed -------------------------------------------------------------------

  function setLive(status) {
    document.body.dataset.live = status;
    const node = $('#live-state');
    node.dataset.i18n = 'live_' + status;
    node.textContent = t('live_' + status);
  }

  function stopFeed() {
    if (state.feed) state.feed.abort();
    state.feed = null;
    setLive('off');
  }

  async function startFeed() {
    stopFeed();
    if (!state.live || !window.ReadableStream) return;
    const controller = new AbortController();
    state.feed = controller;
    const types = Object.keys(EVENT_PANELS).concat(PLATFORM_EVENTS).join(',');
    let backoff = 1000;
    setLive('connecting');
    while (!controller.signal.aborted) {
      try {
        const response = await fetch('/api/v1/events?types=' + encodeURIComponent(types), {
          headers: { Authorization: 'Bearer ' + state.key, Accept: 'text/event-stream' },
          cache: 'no-store',
          credentials: 'omit',
          signal: controller.signal,
        });
        if (response.status === 401 || response.status === 403) {
          askForKey(response.status === 403 ? 'key_forbidden' : 'key_rejected');
          return;
        }
        if (!response.ok || !response.body) throw new Error('HTTP ' + response.status);
        await readEvents(
          response.body,
          () => {
            // subscribed: catch up on whatever changed while we were away
            if (backoff > 1000) scheduleRefresh(['live', 'map', 'lockouts', 'platforms']);
            backoff = 1000;
            setLive('connected');
          },
          onEvent,
        );
      } catch (e) {
        if (controller.signal.aborted) return;
      }
      setLive('reconnecting');
      await new Promise((resolve) => window.setTimeout(resolve, backoff));
      backoff = Math.min(backoff * 2, 30000);
    }
  }

  // Server-Sent Events over a byte stream: blocks end with a blank line; `event:` names the
  // type, `data:` lines carry the JSON, lines starting with ':' are comments (keepalives).
  async function readEvents(body, onOpen, handle) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    let opened = false;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      if (!opened) {
        opened = true; // the first bytes (": connected") come once the feed is subscribed
        onOpen();
      }
      buffer += value;
      let end;
      while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
        let type = 'message';
        const data = [];
        for (const line of block.split(/\r?\n/)) {
          if (!line || line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') type = text;
          else if (field === 'data') data.push(text);
        }
        if (data.length) handle(type, data.join('\n'));
      }
    }
  }

  function onEvent(type, text) {
    document.body.dataset.lastEvent = type;
    if (type === 'lagged') {
      scheduleRefresh(Object.keys(LOADERS)); // we missed events: reload everything
    } else if (PLATFORM_EVENTS.includes(type)) {
      onPlatformEvent(type, text);
    } else if (EVENT_PANELS[type]) {
      scheduleRefresh(EVENT_PANELS[type]);
    }
  }

  // --- charts --------------------------------------------------------------------------

  function chart(id) {
    if (!window.echarts) {
      const node = document.getElementById(id);
      node.textContent = t('no_charts');
      node.classList.add('no-chart');
      return null;
    }
    if (!state.charts[id]) {
      const node = document.getElementById(id);
      state.charts[id] = window.echarts.init(node, null, { renderer: 'svg' });
      if (window.ResizeObserver) new ResizeObserver(() => state.charts[id].resize()).observe(node);
    }
    return state.charts[id];
  }

  function resizeCharts() {
    Object.values(state.charts).forEach((c) => c.resize());
  }

  // --- (a) live counts: /api/v1/monitoring/live ----------------------------------------

  function renderLive() {
    const live = state.data.live;
    if (!live) return;
    const stations = live.stations || {};
    for (const name of ['total', 'online', 'offline', 'locked']) {
      setNumber('stations-' + name, stations[name]);
    }
    setNumber('open-sessions', live.open_sessions);
    const list = $('#connector-counts');
    list.replaceChildren();
    const counts = Object.entries(live.connectors || {}).sort((a, b) => b[1] - a[1]);
    if (!counts.length) list.append(el('li', { class: 'empty', text: t('no_data') }));
    for (const [status, n] of counts) {
      const label = (I18N[state.lang].connector || {})[status] || status;
      list.append(
        el('li', { 'data-status': status }, [
          el('span', { class: 'chip-label', text: label }),
          el('span', { class: 'chip-n', 'data-testid': 'connectors-' + status, text: String(n) }),
        ]),
      );
    }
  }

  function setNumber(testId, value) {
    const node = byTestId(testId);
    if (!node) return;
    node.textContent = value === null || value === undefined ? '–' : String(value);
    node.dataset.value = value === null || value === undefined ? '' : String(value);
  }

  // --- (b) county progress: figures of kind new_piles and scope county -----------------

  function countyFigures() {
    const figures = (state.data.progress && state.data.progress.figures) || [];
    return figures.filter(
      (f) => (f.kind === 'new_piles' && f.scope === 'county') || f.kind === 'county_new_piles_year',
    );
  }

  function figureYear(f) {
    return f.due ? f.due.slice(0, 4) : '';
  }

  function countyLabel(f) {
    // title_en reads "Shuocheng District: new public piles in 2025"
    if (state.lang === 'en' && f.title_en && f.title_en.includes(':'))
      return f.title_en.split(':')[0];
    return f.subject || f.scope;
  }

  // A county as the plan names it in the language shown (stations may spell it either way).
  function countyName(name) {
    if (!name) return name;
    for (const f of countyFigures()) {
      if (f.subject === name || (f.title_en && f.title_en.startsWith(name + ':'))) {
        return countyLabel(f);
      }
    }
    return name;
  }

  function renderProgress() {
    const progress = state.data.progress;
    if (!progress) return;
    $('#plan-name').textContent = progress.plan ? progress.plan.name || progress.plan.plan_id : '';
    $('#as-of').textContent = t('as_of') + ' ' + (progress.on || '');
    $('#as-of').dataset.value = progress.on || '';
    const figures = countyFigures();
    const years = Array.from(new Set(figures.map(figureYear))).sort();
    if (!years.includes(state.year)) {
      // the year under way, or the last one once all are past
      const current = years.find((y) => y + '-12-31' >= (progress.on || ''));
      state.year = current || years[years.length - 1] || null;
    }
    const pick = $('#report-month');
    if (!pick.value && progress.on) pick.value = previousMonth(progress.on); // last filed
    const buttons = $('#progress-years');
    buttons.replaceChildren();
    for (const year of years) {
      const button = el('button', {
        type: 'button',
        'aria-pressed': String(year === state.year),
        'data-year': year,
        text: year + t('year'),
      });
      button.addEventListener('click', () => {
        state.year = year;
        renderProgress();
      });
      buttons.append(button);
    }
    const shown = figures.filter((f) => figureYear(f) === state.year);
    const c = chart('chart-progress');
    $('#chart-progress').dataset.bars = String(shown.length);
    if (!c) return;
    // The actual bar's colour is its status: one stacked series per status, so the legend
    // shows exactly the colours the bars have (a county has a bar in one of them).
    const actual = STATUSES.filter((status) => shown.some((f) => f.status === status)).map(
      (status) => ({
        name: t('actual') + '·' + statusName(status),
        type: 'bar',
        stack: 'actual',
        itemStyle: { color: STATUS_COLOUR[status] },
        label: { show: true, position: 'top' },
        data: shown.map((f) =>
          f.status === status ? (f.actual === null ? 0 : Number(f.actual)) : '-',
        ),
      }),
    );
    c.setOption(
      {
        animation: false,
        grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
        legend: { top: 0 },
        tooltip: {
          trigger: 'axis',
          axisPointer: { type: 'shadow' },
          valueFormatter: (v) => (v === '-' || v === undefined ? '–' : v),
        },
        xAxis: { type: 'category', data: shown.map(countyLabel), axisLabel: { interval: 0 } },
        yAxis: { type: 'value', minInterval: 1, name: unitName({ unit: 'piles' }, 2) },
        series: [
          {
            name: t('target'),
            type: 'bar',
            itemStyle: { color: '#cfd8dc' },
            data: shown.map((f) => Number(f.target)),
          },
          ...actual,
        ],
      },
      true,
    );
  }

  // --- (c) coverage: township, highway, trunk-road, tourist-road and distance figures ---

  function renderCoverage() {
    const figures = ((state.data.progress && state.data.progress.figures) || []).filter((f) =>
      COVERAGE_KINDS.includes(f.kind),
    );
    const box = $('#coverage');
    box.replaceChildren();
    if (!figures.length) box.append(el('p', { class: 'empty', text: t('no_data') }));
    for (const f of figures) {
      box.append(
        el(
          'div',
          {
            class: 'meter',
            'data-status': f.status,
            'data-testid': 'coverage-' + f.key,
            title: missing(f),
          },
          [
            el('div', {
              class: 'meter-title',
              text: state.lang === 'en' ? f.title_en : f.title_zh,
            }),
            el('div', { class: 'meter-bar', role: 'img', 'aria-label': statusName(f.status) }, [
              el('span', { style: 'width:' + meterFill(f) + '%' }),
            ]),
            el('div', { class: 'meter-figures' }, [
              el('span', { class: 'meter-actual', text: formatFigure(f, f.actual) }),
              el('span', {
                class: 'meter-target',
                text: ' / ' + (f.comparison === 'at_most' ? '≤ ' : '') + formatFigure(f, f.target),
              }),
              el('span', {
                class: 'badge',
                'data-status': f.status,
                text: statusName(f.status),
              }),
            ]),
          ],
        ),
      );
    }
  }

  function missing(f) {
    // the engine names the input it lacked (no places registered, no EV data...)
    return f.detail && f.detail.missing ? missingText(f.detail.missing) : null;
  }

  function meterFill(f) {
    // how close the figure is to its target, 0..100 (at_most: within the target is full)
    const actual = Number(f.actual);
    const target = Number(f.target);
    if (f.actual === null || !Number.isFinite(actual) || !Number.isFinite(target)) return 0;
    if (f.comparison === 'at_most')
      return actual <= target ? 100 : Math.round((target / actual) * 100);
    if (target <= 0) return 100;
    return Math.max(0, Math.min(100, Math.round((actual / target) * 100)));
  }

  // --- all figures as a table, with the counts by status -------------------------------

  function renderFigures() {
    const progress = state.data.progress;
    if (!progress) return;
    const counts = progress.by_status || {};
    const summary = $('#figure-counts');
    summary.replaceChildren();
    for (const status of ['met', 'on_track', 'behind']) {
      summary.append(
        el('span', { class: 'badge', 'data-status': status }, [
          statusName(status) + ' ',
          el('b', { 'data-testid': 'figures-' + status, text: String(counts[status] || 0) }),
        ]),
        ' ',
      );
    }
    const body = $('#figures tbody');
    body.replaceChildren();
    for (const f of progress.figures || []) {
      const id = 'figure-' + f.key;
      body.append(
        el(
          'tr',
          { 'data-testid': id, 'data-status': f.status, 'data-kind': f.kind, title: missing(f) },
          [
            el('td', { text: state.lang === 'en' ? f.title_en : f.title_zh }),
            el('td', { text: scopeLabel(f) }),
            el('td', {
              class: 'num',
              'data-testid': id + '-target',
              'data-value': f.target,
              text: formatFigure(f, f.target),
            }),
            el('td', {
              class: 'num',
              'data-testid': id + '-actual',
              'data-value': f.actual === null ? '' : f.actual,
              text: formatFigure(f, f.actual),
            }),
            el('td', { class: 'num', 'data-testid': id + '-gap', text: formatFigure(f, f.gap) }),
            el('td', { text: f.due || '–' }),
            el('td', {}, [
              el('span', {
                class: 'badge',
                'data-status': f.status,
                'data-testid': id + '-status',
                text: statusName(f.status),
              }),
            ]),
          ],
        ),
      );
    }
  }

  function scopeLabel(f) {
    if (f.scope === 'county') return countyLabel(f);
    const scope = keyName('scope', f.scope);
    return f.subject && f.subject !== f.scope && f.scope !== 'city'
      ? scope + ' · ' + keyName('subject', f.subject)
      : scope;
  }

  // --- (d) utilization trend: /api/v1/monitoring/utilization?by=county&granularity=day --

  function renderUtilization() {
    const rows = (state.data.utilization && state.data.utilization.rows) || [];
    // every county has a row for every day that has begun (zeros included)
    const days = Array.from(new Set(rows.map((row) => row.bucket)))
      .sort()
      .slice(-TREND_DAYS);
    // one line (time utilization) and one stacked bar (kWh) per county
    const byGroup = new Map();
    for (const row of rows) {
      const group = row.county || t('no_county'); // by=county: a row per county and local day
      const day = row.bucket; // granularity=day: the local date, YYYY-MM-DD
      if (!byGroup.has(group)) byGroup.set(group, new Map());
      byGroup.get(group).set(day, row);
    }
    const totals = (state.data.utilization && state.data.utilization.totals) || null;
    const note = $('#utilization-totals');
    note.replaceChildren();
    if (totals) {
      // "sessions" means counted sessions (over 2 min and 0.5 kWh), as in the report; all
      // sessions are given beside them
      const [before, after] = t('counted_sessions').split('{n}');
      const [allBefore, allAfter] = t('all_sessions').split('{n}');
      note.append(
        t('utilization_totals') + ': ',
        el('span', { 'data-testid': 'utilization-kwh', text: String(totals.kwh) }),
        ' kWh · ' + before,
        el('span', {
          'data-testid': 'utilization-sessions',
          text: String(totals.counted_sessions ?? '–'),
        }),
        after + '（' + allBefore,
        el('span', {
          'data-testid': 'utilization-all-sessions',
          text: String(totals.sessions ?? '–'),
        }),
        allAfter + '） · ' + t('time_utilization') + ' ',
        el('span', { 'data-testid': 'utilization-time', text: percent(totals.time_utilization) }),
      );
      note.append(el('br'), el('small', { text: t('trend_note') }));
    }
    const c = chart('chart-utilization');
    $('#chart-utilization').dataset.rows = String(rows.length);
    if (!c) return;
    const groups = Array.from(byGroup.keys()).sort();
    // A county's line (time utilization) and bars (kWh) share its name, so one legend item
    // in the county's colour stands for both and toggles both.
    const lines = [];
    const bars = [];
    groups.forEach((group, i) => {
      const seen = byGroup.get(group);
      const colour = COUNTY_COLOURS[i % COUNTY_COLOURS.length];
      lines.push({
        name: countyName(group),
        type: 'line',
        yAxisIndex: 0,
        symbolSize: 4,
        itemStyle: { color: colour },
        lineStyle: { color: colour, width: 2 },
        data: days.map((d) => {
          const value = seen.has(d) ? seen.get(d).time_utilization : null;
          return value === null || value === undefined
            ? null
            : Number((Number(value) * 100).toFixed(2));
        }),
      });
      bars.push({
        name: countyName(group),
        type: 'bar',
        stack: 'kwh',
        yAxisIndex: 1,
        itemStyle: { color: colour, opacity: 0.35 },
        data: days.map((d) => (seen.has(d) ? Number(seen.get(d).kwh) : 0)),
      });
    });
    const series = lines.concat(bars);
    c.setOption(
      {
        animation: false,
        grid: { left: 8, right: 8, top: 56, bottom: 8, containLabel: true },
        legend: { top: 0, type: 'scroll', data: groups.map(countyName) },
        tooltip: {
          trigger: 'axis',
          formatter: (items) =>
            escapeHtml(items.length ? items[0].axisValue : '') +
            items
              .map((p) => {
                const value = p.value === null || p.value === undefined ? '–' : p.value;
                const unit = p.seriesType === 'line' ? '%' : ' kWh';
                return '<br>' + p.marker + escapeHtml(p.seriesName) + ': ' + value + unit;
              })
              .join(''),
        },
        color: COUNTY_COLOURS,
        xAxis: { type: 'category', data: days.map((d) => d.slice(5)) },
        yAxis: [
          {
            type: 'value',
            name: t('time_utilization') + ' %',
            nameTextStyle: { align: 'left' },
            min: 0,
            axisLabel: { formatter: '{value}%' },
          },
          {
            type: 'value',
            name: t('energy_kwh'),
            nameTextStyle: { align: 'right' },
            min: 0,
            splitLine: { show: false },
          },
        ],
        series: series.length ? series : [{ type: 'line', data: [] }],
      },
      true,
    );
  }

  function percent(value) {
    if (value === null || value === undefined || value === '') return '–';
    return (Number(value) * 100).toFixed(2) + '%';
  }

  // --- (e) stations by coordinates: /api/v1/monitoring/map ------------------------------

  function renderMap() {
    const stations = (state.data.map && state.data.map.stations) || [];
    const placed = [];
    let unplaced = 0;
    for (const s of stations) {
      // GCJ-02 ([lat, lon]) is what Chinese map platforms and the county map use
      const point = s.gcj02
        ? { lat: s.gcj02[0], lon: s.gcj02[1] }
        : { lat: s.latitude, lon: s.longitude };
      if (point.lat === null || point.lon === null || point.lat === undefined) unplaced += 1;
      else placed.push({ station: s, lat: Number(point.lat), lon: Number(point.lon) });
    }
    const states = $('#map-states');
    states.replaceChildren();
    for (const name of STATES) {
      // every station in the state, placed on the map or not
      const all = stations.filter((s) => s.state === name).length;
      if (!all) continue;
      states.append(
        el('li', { 'data-state': name }, [
          el('span', { class: 'dot', style: 'background:' + STATE_COLOUR[name] }),
          el('span', { class: 'chip-label', text: t('state_' + name) }),
          el('span', { class: 'chip-n', 'data-testid': 'map-state-' + name, text: String(all) }),
        ]),
      );
    }
    $('#map-unplaced').textContent = unplaced ? '(' + unplaced + ' ' + t('map_unplaced') + ')' : '';
    const boundaries = state.data.map && state.data.map.boundaries;
    const mapName = boundaries ? state.maps[boundaries.url] : null;
    $('#chart-map').dataset.boundaries = mapName || '';
    $('#map-note').textContent = mapName ? '' : t('map_no_boundaries');
    const c = chart('chart-map');
    const series = STATES.map((name) => ({
      name: t('state_' + name),
      type: 'scatter',
      coordinateSystem: mapName ? 'geo' : 'cartesian2d',
      symbolSize: 9,
      itemStyle: { color: STATE_COLOUR[name], opacity: 0.9, borderColor: '#fff', borderWidth: 1 },
      data: placed
        .filter((p) => p.station.state === name)
        .map((p) => ({ value: [p.lon, p.lat], station: p.station })),
    }));
    const drawn = series.reduce((sum, s) => sum + s.data.length, 0);
    setNumber('map-points', drawn);
    $('#chart-map').dataset.points = String(drawn);
    if (!c) return;
    const tooltip = {
      trigger: 'item',
      formatter: (item) => {
        if (item.componentType === 'geo') {
          const county = countyName(item.name);
          const n = placed.filter((p) => countyName(p.station.county) === county).length;
          return escapeHtml(countyName(item.name)) + '<br>' + n + ' ' + t('map_stations');
        }
        const s = item.data.station;
        return [s.id, s.site_name, countyName(s.county), t('state_' + s.state)]
          .filter(Boolean)
          .map(escapeHtml)
          .join('<br>');
      },
    };
    const legend = { top: 0, data: series.filter((s) => s.data.length).map((s) => s.name) };
    if (mapName) {
      c.setOption(
        {
          animation: false,
          legend,
          tooltip,
          geo: {
            map: mapName,
            roam: true,
            top: 40,
            bottom: 8,
            left: 8,
            right: 8,
            tooltip: { show: true },
            label: { show: true, color: '#455a64', fontSize: 12, formatter: (p) => countyName(p.name) },
            itemStyle: { areaColor: '#eef3f7', borderColor: '#78909c', borderWidth: 1 },
            emphasis: {
              label: { color: '#263238' },
              itemStyle: { areaColor: '#dbe7f0' },
            },
            select: { disabled: true },
          },
          series,
        },
        true,
      );
      return;
    }
    // no county map shipped for this city: a plot by coordinates, with room for its labels
    const box = mapExtent(placed, $('#chart-map'));
    c.setOption(
      {
        animation: false,
        grid: { left: 56, right: 24, top: 56, bottom: 44 },
        legend,
        tooltip,
        xAxis: {
          type: 'value',
          name: t('longitude'),
          nameLocation: 'middle',
          nameGap: 28,
          min: box.minLon,
          max: box.maxLon,
          axisLabel: { formatter: (v) => v.toFixed(2), hideOverlap: true },
        },
        yAxis: {
          type: 'value',
          name: t('latitude'),
          nameLocation: 'middle',
          nameGap: 44,
          min: box.minLat,
          max: box.maxLat,
          axisLabel: { formatter: (v) => v.toFixed(2), hideOverlap: true },
        },
        series,
      },
      true,
    );
  }

  // The county map of the plan's city (vendored GeoJSON, no key needed), registered with
  // ECharts once under the city's name.
  async function loadBoundaries(boundaries) {
    if (!boundaries || state.maps[boundaries.url] || !window.echarts) return;
    const response = await fetch(boundaries.url, { credentials: 'omit' });
    if (!response.ok) throw new Error('HTTP ' + response.status + ' ' + boundaries.url);
    window.echarts.registerMap(boundaries.city, await response.json());
    state.maps[boundaries.url] = boundaries.city;
  }

  // Axis ranges with the same ground distance per pixel both ways (a degree of longitude is
  // cos(latitude) of a degree of latitude), so the plot is not stretched.
  function mapExtent(points, node) {
    if (!points.length) return { minLon: 112, maxLon: 114, minLat: 39, maxLat: 40.5 };
    let minLon = Math.min(...points.map((p) => p.lon));
    let maxLon = Math.max(...points.map((p) => p.lon));
    let minLat = Math.min(...points.map((p) => p.lat));
    let maxLat = Math.max(...points.map((p) => p.lat));
    const midLat = (minLat + maxLat) / 2;
    const squeeze = Math.cos((midLat * Math.PI) / 180);
    const width = Math.max(node.clientWidth - 80, 100);
    const height = Math.max(node.clientHeight - 80, 100);
    let lonSpan = Math.max(maxLon - minLon, 0.02) * 1.1;
    let latSpan = Math.max(maxLat - minLat, 0.02) * 1.1;
    if ((lonSpan * squeeze) / latSpan < width / height)
      lonSpan = (latSpan * width) / height / squeeze;
    else latSpan = (lonSpan * squeeze * height) / width;
    const midLon = (minLon + maxLon) / 2;
    minLon = midLon - lonSpan / 2;
    maxLon = midLon + lonSpan / 2;
    minLat = midLat - latSpan / 2;
    maxLat = midLat + latSpan / 2;
    return { minLon, maxLon, minLat, maxLat };
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, (c) => '&#' + c.charCodeAt(0) + ';');
  }

  // --- (f) lockouts in force: /api/v1/lockouts?open=true --------------------------------

  function renderLockouts() {
    const rows = state.data.lockouts || []; // newest first
    const tbody = $('#lockouts tbody');
    tbody.replaceChildren();
    $('#lockouts').dataset.count = String(rows.length);
    if (!rows.length) {
      tbody.append(
        el('tr', { class: 'empty' }, [el('td', { colspan: '5', text: t('no_lockouts') })]),
      );
      return;
    }
    const counties = new Map(
      ((state.data.map && state.data.map.stations) || []).map((s) => [s.id, s.county]),
    );
    for (const lockout of rows) {
      tbody.append(
        el('tr', { 'data-testid': 'lockout-' + lockout.id }, [
          el('td', { text: lockout.station_id }),
          el('td', { text: countyName(counties.get(lockout.station_id)) || '–' }),
          el('td', { text: lockout.hazard }),
          el('td', { text: formatTime(lockout.locked_at) }),
          el('td', { text: lockout.locked_by }),
        ]),
      );
    }
  }

  // --- (g) push health of monitoring platforms: /api/v1/platforms/health and the feed ---

  // The CSMS's clock as this browser reckons it: ages are counted on the server's time, so a
  // browser whose clock is off still reads "12 s ago" right.
  function serverNow() {
    return Date.now() + state.skew;
  }

  function serverTimeFromHeader(response) {
    // the Date header has whole seconds: a feed event's time, once one came, is better
    const date = Date.parse(response.headers.get('Date') || '');
    if (Number.isFinite(date) && !state.skewFromFeed) state.skew = date + 500 - Date.now();
  }

  function millis(iso) {
    if (!iso) return null;
    const when = Date.parse(iso);
    return Number.isFinite(when) ? when : null;
  }

  // A health row from the API (node null) or from a feed snapshot (node: who sent it). Every
  // node reports every platform, but only the node holding the platform's sender knows its
  // token: other nodes' snapshots keep that view while the sender keeps reporting.
  function mergedHealth(fresh, node) {
    const old = (state.data.platforms || []).find((row) => row.id === fresh.id);
    const row = Object.assign({}, fresh, { node, seen: Date.now() });
    const senderView =
      !row.sender_here &&
      old &&
      old.sender_here &&
      old.node !== node &&
      Date.now() - old.seen < SENDER_STALE_MS;
    if (senderView) {
      Object.assign(row, {
        sender_here: true,
        token_expires_at: old.token_expires_at,
        node: old.node,
        seen: old.seen,
      });
    }
    return row;
  }

  // platform.health: the whole row, every ~10 s; platform.push: the outcome changed (data:
  // platform_id, ok, reachable, ret, msg), which the next snapshot confirms with the backlog.
  function onPlatformEvent(type, text) {
    let event;
    try {
      event = JSON.parse(text);
    } catch (e) {
      return;
    }
    const data = (event && event.data) || {};
    const rows = state.data.platforms || (state.data.platforms = []);
    if (type === 'platform.health') {
      if (!data.id) return;
      const at = millis(event.at);
      if (at !== null) {
        state.skew = at - Date.now(); // sent as it was taken: the server's time, to the ms
        state.skewFromFeed = true;
      }
      const row = mergedHealth(data, event.node || null);
      const i = rows.findIndex((r) => r.id === row.id);
      if (i >= 0) rows[i] = row;
      else rows.push(row);
    } else {
      const row = rows.find((r) => r.id === data.platform_id);
      if (!row) {
        scheduleRefresh(['platforms']); // a platform this page has not heard of yet
        return;
      }
      const when = event.at || new Date(serverNow()).toISOString();
      state.reach[row.id] = { reachable: data.reachable !== false, at: millis(when) };
      if (data.ok) Object.assign(row, { last_success_at: when, last_ret: 0, last_msg: null });
      else {
        Object.assign(row, {
          last_failure_at: when,
          last_ret: data.ret ?? null,
          last_msg: data.msg ?? null,
        });
      }
    }
    renderPlatforms();
  }

  // ok: the last push was acknowledged; failing: the platform answered with an error (Ret);
  // unreachable: no answer (down, refused, timed out); idle: enabled, nothing pushed yet.
  function platformState(row) {
    if (!row.enabled) return 'disabled';
    const success = millis(row.last_success_at);
    const failure = millis(row.last_failure_at);
    if (failure !== null && (success === null || failure > success)) {
      // the feed tells whether the platform answered at all; a loaded row only has its Ret
      const told = state.reach[row.id];
      const answered = told && told.at >= failure ? told.reachable : row.last_ret !== null;
      return answered ? 'failing' : 'unreachable';
    }
    return success === null ? 'idle' : 'ok';
  }

  function duration(seconds) {
    const s = Math.max(0, Math.round(seconds));
    const unit = (n, name) => n + ' ' + t('dur_' + name);
    if (s < 60) return unit(s, 's');
    if (s < 3600) return unit(Math.floor(s / 60), 'min');
    if (s < 86400) {
      const minutes = Math.floor((s % 3600) / 60);
      return unit(Math.floor(s / 3600), 'h') + (minutes ? ' ' + unit(minutes, 'min') : '');
    }
    const hours = Math.floor((s % 86400) / 3600);
    return unit(Math.floor(s / 86400), 'd') + (hours ? ' ' + unit(hours, 'h') : '');
  }

  // ago: "12 s ago"; for: "12 s" (how long a record has waited); until: "in 1 h 5 min"
  function clockText(kind, iso) {
    const at = millis(iso);
    if (at === null) return '–';
    const seconds = (serverNow() - at) / 1000;
    if (kind === 'until') {
      return seconds >= 0 ? t('expired') : t('within').replace('{d}', duration(-seconds));
    }
    if (kind === 'for') return duration(seconds);
    return t('ago').replace('{d}', duration(seconds));
  }

  // An age that keeps counting (tickAges), and the moment itself under it.
  function stamp(kind, iso, testId, absent) {
    if (!iso) return [el('span', { 'data-testid': testId, text: absent })];
    return [
      el('span', {
        class: 'age',
        'data-clock': kind,
        'data-at': iso,
        'data-testid': testId,
        text: clockText(kind, iso),
      }),
      el('span', { class: 'when', text: formatTime(iso) }),
    ];
  }

  function tickAges() {
    for (const node of document.querySelectorAll('#platforms [data-clock]')) {
      node.textContent = clockText(node.dataset.clock, node.dataset.at);
    }
  }

  function renderPlatforms() {
    const rows = state.data.platforms || [];
    const tbody = $('#platforms tbody');
    tbody.replaceChildren();
    $('#platforms').dataset.count = String(rows.length);
    if (!rows.length) {
      tbody.append(
        el('tr', { class: 'empty' }, [
          el('td', { colspan: '8', 'data-testid': 'platforms-empty', text: t('no_platforms') }),
        ]),
      );
      return;
    }
    for (const row of rows) {
      const id = 'platform-' + row.id;
      const status = platformState(row);
      // Ret and Msg are the last answer's: shown while it is a failure
      const parts = [];
      if (status === 'failing' || status === 'unreachable') {
        if (row.last_ret !== null && row.last_ret !== undefined) parts.push('Ret ' + row.last_ret);
        if (row.last_msg) parts.push(row.last_msg);
      }
      const reason = parts.join(' · ');
      const name = [el('span', { class: 'pf-name', 'data-testid': id + '-name', text: row.name })];
      if (row.name !== row.id) name.push(el('span', { class: 'when', text: row.id }));
      const failure = stamp('ago', row.last_failure_at, id + '-failure', t('never'));
      if (reason) {
        failure.push(el('span', { class: 'why', 'data-testid': id + '-reason', text: reason }));
      }
      const pending = Number(row.pending) || 0;
      const failed = Number(row.failed) || 0;
      tbody.append(
        el('tr', { 'data-testid': id, 'data-state': status }, [
          el('td', {}, name),
          el('td', {}, [
            el('span', {
              class: 'badge',
              'data-state': status,
              'data-testid': id + '-state',
              title: reason || null,
              text: t('pf_state_' + status),
            }),
          ]),
          el('td', {}, stamp('ago', row.last_success_at, id + '-success', t('never'))),
          el('td', {}, failure),
          el('td', {
            class: 'num',
            'data-testid': id + '-pending',
            'data-value': String(pending),
            text: String(pending),
          }),
          el('td', {
            class: 'num' + (failed ? ' bad' : ''),
            'data-testid': id + '-failed',
            'data-value': String(failed),
            text: String(failed),
          }),
          el('td', {}, stamp('for', row.oldest_pending_at, id + '-oldest', '–')),
          el('td', {}, stamp('until', row.token_expires_at, id + '-token', '–')),
        ]),
      );
    }
  }

  // --- (h) monthly reports: /api/v1/reports/monthly, opened by signed links -------------

  function renderReports() {
    const rows = state.data.reports || []; // newest month first
    const tbody = $('#reports tbody');
    tbody.replaceChildren();
    $('#reports').dataset.count = String(rows.length);
    if (!rows.length) {
      tbody.append(
        el('tr', { class: 'empty' }, [
          el('td', { colspan: '6', 'data-testid': 'reports-empty', text: t('rp_none') }),
        ]),
      );
    }
    for (const row of rows) {
      const id = 'report-' + row.month;
      const amended = [];
      if (row.amended_at) {
        amended.push(t('rp_amended_at').replace('{t}', formatTime(row.amended_at)));
      }
      if (row.late_data) amended.push(t('rp_late'));
      tbody.append(
        el('tr', { 'data-testid': id, 'data-version': String(row.version) }, [
          el('td', { text: row.month }),
          el('td', { class: 'num', text: String(row.version) }),
          el('td', { text: t(row.final ? 'rp_final' : 'rp_running') }),
          el('td', { text: formatTime(row.generated_at) }),
          el('td', {
            class: row.late_data ? 'bad' : null,
            'data-testid': id + '-amended',
            text: amended.join('；') || '–',
          }),
          el('td', { class: 'actions' }, [
            reportButton('rp_open', row.month, 'html', id + '-open'),
            ' ',
            reportButton('rp_csv', row.month, 'csv', id + '-csv'),
          ]),
        ]),
      );
    }
  }

  function previousMonth(day) {
    const [year, month] = day.split('-').map(Number);
    const pad = (n) => String(n).padStart(2, '0');
    return month === 1 ? year - 1 + '-12' : year + '-' + pad(month - 1);
  }

  function reportButton(label, month, format, testId) {
    const button = el('button', { type: 'button', 'data-testid': testId, text: t(label) });
    button.addEventListener('click', () => openReport(month, format));
    return button;
  }

  // The tab opens at the click (a tab opened after an await is blocked as a pop-up) and is
  // sent to the signed link once the CSMS made it; the key never leaves this page.
  async function openReport(month, format) {
    const tab = window.open('', '_blank');
    if (tab) {
      tab.opener = null;
      tab.document.title = t('rp_opening');
    }
    try {
      const link = await requestReportLink(month, format);
      if (tab) tab.location.replace(link.url);
      else offerLink(month, link.url); // pop-ups blocked: a link to click instead
    } catch (e) {
      if (tab) tab.close();
      if (e instanceof AuthError) askForKey(e.status === 403 ? 'key_forbidden' : 'key_rejected');
      else panelError('panel-reports', t('load_failed') + ': ' + e.message);
    }
  }

  function offerLink(month, url) {
    const node = $('#report-offer');
    node.replaceChildren(
      el('a', { href: url, target: '_blank', rel: 'noopener', text: t('rp_open') + ' ' + month }),
      ' ' + t('rp_valid'),
    );
    node.hidden = false;
  }

  async function requestReportLink(month, format) {
    const query = new URLSearchParams({ format });
    const link = await api('/api/v1/reports/monthly/' + month + '/link?' + query);
    document.body.dataset.reportLink = link.url; // for tests and the curious
    return link;
  }

  // --- language ------------------------------------------------------------------------

  function applyLanguage() {
    document.documentElement.lang = state.lang === 'zh' ? 'zh-CN' : 'en';
    document.title = t('title') + ' · CSMS';
    for (const node of document.querySelectorAll('[data-i18n]'))
      node.textContent = t(node.dataset.i18n);
    for (const button of document.querySelectorAll('[data-lang]')) {
      button.setAttribute('aria-pressed', String(button.dataset.lang === state.lang));
    }
    if (document.body.dataset.state === 'needs-key' && !state.key) showError(t('key_missing'));
    // redraw what is loaded with the new labels
    if (state.data.live) renderLive();
    if (state.data.progress) {
      renderProgress();
      renderCoverage();
      renderFigures();
    }
    if (state.data.utilization) renderUtilization();
    if (state.data.map) renderMap();
    if (state.data.lockouts) renderLockouts();
    if (state.data.platforms) renderPlatforms();
    if (state.data.reports) renderReports();
    if (state.key && $('#updated-at').dataset.at) {
      $('#updated-at').textContent = t('updated') + ' ' + formatTime($('#updated-at').dataset.at);
    }
  }

  function setLanguage(lang) {
    state.lang = lang;
    safeStorage('set', LANG_STORAGE, lang);
    const url = new URL(window.location.href);
    url.searchParams.set('lang', lang);
    try {
      window.history.replaceState(null, '', url.pathname + url.search);
    } catch (e) {
      // file:// pages may refuse; the language still changes
    }
    applyLanguage();
  }

  // --- start ---------------------------------------------------------------------------

  function start() {
    for (const button of document.querySelectorAll('[data-lang]')) {
      button.addEventListener('click', () => setLanguage(button.dataset.lang));
    }
    $('#refresh').addEventListener('click', () => state.key && loadAll());
    $('#change-key').addEventListener('click', () => askForKey('key_missing'));
    $('#report-pick').addEventListener('submit', (event) => {
      event.preventDefault();
      const month = $('#report-month').value;
      if (month && state.key) openReport(month, 'html');
    });
    $('#key-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const key = $('#key-input').value.trim();
      if (key) useKey(key);
    });
    window.addEventListener('resize', resizeCharts);
    window.addEventListener('beforeprint', resizeCharts);
    window.addEventListener('afterprint', resizeCharts);
    window.setInterval(tickAges, TICK_MS);
    applyLanguage();
    const key = keyFromFragment() || safeStorage('get', KEY_STORAGE);
    // the names come first (no key needed): figures drawn without them would show raw keys
    loadNames().then((names) => {
      state.names = names;
      if (key) useKey(key);
      else askForKey('key_missing');
    });
  }



  start();
})();
