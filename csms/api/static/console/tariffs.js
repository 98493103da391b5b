/*
 * Tariffs (电价): every tariff's newest version with its time-of-use bands drawn as a 24-hour
 * bar per day plan, its prices, idle fee and assignments; operators and admins draw a new
 * tariff (bands and their prices, one day plan for every day in half-hour cells, idle fee)
 * and see the JSON before it is sent. The API checks it again and names every fault (422).
 * The cost preview asks the API (POST /api/v1/tariffs/{id}/quote): no bill is computed here.
 */

import { call, resultLine } from './api.js';
import { h, isoOf, localOf } from './dom.js';
import { t, when } from './i18n.js';

const BANDS = ['sharp', 'peak', 'flat', 'valley']; // the API's bands, dearest first
const CELLS = 48; // half hours of a day
const PRICE = /^\d{1,6}(\.\d{1,4})?$/; // CNY per kWh, at most 4 decimals (as the API)
const FEE = /^\d{1,6}(\.\d{1,2})?$/; // CNY, at most 2 decimals
const TARIFF_ID = /^[A-Za-z0-9._-]{1,64}$/;
const drag = { on: false }; // a mouse button held down over the half-hour cells
document.addEventListener('mouseup', () => { drag.on = false; });

const minutes = (hhmm) => {
  const [hours, mins] = hhmm.split(':').map(Number);
  return hours * 60 + mins;
};
const clock = (cell) => `${String(Math.floor(cell / 2)).padStart(2, '0')}:${cell % 2 ? '30' : '00'}`;

/** Which days a plan covers, in words. */
function planDays(plan) {
  const parts = [];
  if (plan.months?.length) parts.push(t('tariff_months', { list: plan.months.join(t('list_separator')) }));
  if (plan.day_types?.length) {
    parts.push(plan.day_types.map((d) => t(`day_${d}`)).join(t('list_separator')));
  }
  return parts.length ? parts.join(' · ') : t('tariff_every_day');
}

/** A day plan as a 24-hour bar: one coloured segment per period, labelled with its prices. */
function bar(testid, plan, prices) {
  const segments = [...plan.periods]
    .sort((a, b) => minutes(a.start) - minutes(b.start))
    .map((period) => {
      const price = prices[period.band];
      const label = `${t(`band_${period.band}`)} ${price ? `${price.energy}+${price.service}` : ''}`;
      const segment = h('div', {
        class: `segment band-${period.band}`,
        title: `${period.start}–${period.end} ${label} ${t('per_kwh')}`,
        dataset: { band: period.band, start: period.start, end: period.end },
      }, h('span', {}, label));
      segment.style.flexGrow = String(minutes(period.end) - minutes(period.start));
      return segment;
    });
  return h('div', { class: 'tariff-day' },
    h('div', { class: 'bar24', testid, role: 'img',
               'aria-label': plan.periods.map((p) => `${p.start}–${p.end} ${t(`band_${p.band}`)}`).join(', ') },
      segments),
    h('div', { class: 'bar24-hours muted' }, ['00:00', '06:00', '12:00', '18:00', '24:00'].map((x) => h('span', {}, x))));
}

function tariffCard(tariff, assignments) {
  const id = tariff.tariff_id;
  const prices = tariff.prices;
  const priceRows = BANDS.filter((b) => prices[b]).map((band) =>
    h('tr', { testid: `tariff-${id}-price-${band}` },
      h('td', {}, h('span', { class: `swatch band-${band}` }), t(`band_${band}`)),
      h('td', {}, prices[band].energy), h('td', {}, prices[band].service)));
  const idle = tariff.idle_fee
    ? t('tariff_idle', { per_minute: tariff.idle_fee.per_minute, grace: tariff.idle_fee.grace_minutes ?? 0,
                         cap: tariff.idle_fee.cap ?? t('tariff_no_cap') })
    : t('tariff_no_idle');
  const mine = assignments.filter((a) => a.tariff_id === id);
  const assigned = mine.length === 0
    ? t('tariff_unassigned')
    : mine.map((a) => `${t(`scope_${a.scope}`)}${a.target ? ` ${a.target}` : ''} (${t('from_time', { time: when(a.effective_from) })})`)
      .join(t('list_separator'));
  return h('section', { class: 'card', testid: `tariff-${id}` },
    h('h2', {}, `${tariff.name} `, h('span', { class: 'muted' }, `${id} · v${tariff.version}`)),
    h('p', { class: 'muted' }, t('tariff_effective', {
      from: when(tariff.effective_from), to: when(tariff.effective_to), zone: tariff.time_zone })),
    tariff.plans.map((plan, index) => h('div', {},
      h('p', { class: 'plan-days' }, planDays(plan)), bar(`tariff-${id}-bar-${index}`, plan, prices))),
    h('table', { class: 'prices' },
      h('thead', {}, h('tr', {}, h('th', {}, t('tariff_band')), h('th', {}, t('energy_price')),
                       h('th', {}, t('service_price')))),
      h('tbody', {}, priceRows)),
    h('p', { testid: `tariff-${id}-idle` }, idle,
      tariff.session_fee && Number(tariff.session_fee) !== 0
        ? ` ${t('tariff_session_fee', { fee: tariff.session_fee })}` : ''),
    h('p', { testid: `tariff-${id}-assigned` }, t('tariff_assigned', { list: assigned })));
}

/** The editor: fields, the band brush, 48 half-hour cells, the JSON it will send. */
function editor(result, report, problem, reload) {
  const cells = new Array(CELLS).fill(null); // the band of each half hour
  let brush = 'flat';

  const input = (testid, attrs = {}) => h('input', { testid, autocomplete: 'off', ...attrs });
  const tariffId = input('tariff-new-id', { maxlength: '64' });
  const name = input('tariff-new-name', { maxlength: '200' });
  const from = input('tariff-new-from', { type: 'datetime-local', value: localOf(new Date().toISOString()) });
  const priceInputs = {};
  const brushes = {};
  const bandRows = BANDS.map((band) => {
    const energy = input(`tariff-new-${band}-energy`, { inputmode: 'decimal', size: '8' });
    const service = input(`tariff-new-${band}-service`, { inputmode: 'decimal', size: '8' });
    priceInputs[band] = { energy, service };
    brushes[band] = h('button', { type: 'button', class: `brush band-${band}`, testid: `tariff-brush-${band}`,
                                  'aria-pressed': String(band === brush),
                                  onclick: () => choose(band) }, t(`band_${band}`));
    return h('tr', {}, h('td', {}, brushes[band]), h('td', {}, energy), h('td', {}, service));
  });
  const idlePerMinute = input('tariff-new-idle-per-minute', { inputmode: 'decimal', size: '8' });
  const idleGrace = input('tariff-new-idle-grace', { type: 'number', min: '0', max: '1440', value: '0' });
  const idleCap = input('tariff-new-idle-cap', { inputmode: 'decimal', size: '8' });
  const json = h('pre', { class: 'answer', testid: 'tariff-json' });
  const grid = h('div', { class: 'cells', testid: 'tariff-cells' });

  const cellButtons = cells.map((_, index) => h('button', {
    type: 'button', class: 'cell', testid: `tariff-cell-${index}`,
    'aria-label': `${clock(index)}–${clock(index + 1).replace('00:00', '24:00')}`,
    onmousedown: (event) => { event.preventDefault(); drag.on = true; paint(index); },
    onmouseenter: () => { if (drag.on) paint(index); },
    onclick: () => paint(index),
  }));
  grid.append(...cellButtons);

  function choose(band) {
    brush = band;
    for (const [key, button] of Object.entries(brushes)) button.setAttribute('aria-pressed', String(key === band));
  }
  function paint(index) {
    cells[index] = brush;
    const cell = cellButtons[index];
    cell.className = `cell band-${brush}`;
    cell.dataset.band = brush;
    cell.title = `${cell.getAttribute('aria-label')} ${t(`band_${brush}`)}`;
    show();
  }
  const fillAll = h('button', { type: 'button', testid: 'tariff-fill-all',
                                onclick: () => cells.forEach((_, i) => paint(i)) }, t('tariff_fill_all'));

  /** The request body as drawn (whatever its faults: the JSON shows what would go). */
  function body() {
    const periods = [];
    cells.forEach((band, index) => {
      const last = periods[periods.length - 1];
      const end = index + 1 === CELLS ? '24:00' : clock(index + 1);
      if (band && last && last.band === band && last.end === clock(index)) last.end = end;
      else if (band) periods.push({ start: clock(index), end, band });
    });
    const prices = {};
    for (const band of BANDS.filter((b) => cells.includes(b))) {
      prices[band] = { energy: priceInputs[band].energy.value.trim(),
                       service: priceInputs[band].service.value.trim() };
    }
    const out = { tariff_id: tariffId.value.trim(), name: name.value.trim(),
                  effective_from: isoOf(from.value), prices, plans: [{ periods }] };
    if (idlePerMinute.value.trim()) {
      out.idle_fee = { per_minute: idlePerMinute.value.trim(),
                       grace_minutes: Number(idleGrace.value || '0') };
      if (idleCap.value.trim()) out.idle_fee.cap = idleCap.value.trim();
    }
    return out;
  }
  function show() {
    json.textContent = JSON.stringify(body(), null, 2);
  }

  /** Every fault the console can see before sending, in words; empty when it may go. */
  function faults(draft) {
    const out = [];
    if (!TARIFF_ID.test(draft.tariff_id)) out.push(t('tf_id'));
    if (!draft.name) out.push(t('tf_name'));
    if (!draft.effective_from) out.push(t('tf_from'));
    const empty = cells.map((band, i) => (band ? null : clock(i))).filter(Boolean);
    if (empty.length) out.push(t('tf_cells', { n: empty.length, first: empty[0] }));
    for (const [band, price] of Object.entries(draft.prices)) {
      for (const kind of ['energy', 'service']) {
        if (!PRICE.test(price[kind])) {
          out.push(t('tf_price', { band: t(`band_${band}`), kind: t(`kind_${kind}`) }));
        }
      }
    }
    if (draft.idle_fee) {
      if (!PRICE.test(draft.idle_fee.per_minute)) out.push(t('tf_idle_per_minute'));
      const grace = draft.idle_fee.grace_minutes;
      if (!Number.isInteger(grace) || grace < 0 || grace > 1440) out.push(t('tf_idle_grace'));
      if (draft.idle_fee.cap !== undefined && !FEE.test(draft.idle_fee.cap)) out.push(t('tf_idle_cap'));
    }
    return out;
  }

  const submit = h('button', { type: 'submit', class: 'primary', testid: 'tariff-create-submit' },
                   t('tariff_create'));
  const send = async (event) => {
    event.preventDefault();
    report('pending', t('loading'), 'tariff-pending');
    const draft = body();
    const found = faults(draft);
    if (found.length) {
      report('error', t('tf_fix', { list: found.join(t('list_separator')) }), 'tariff-error');
      return;
    }
    submit.disabled = true;
    try {
      const answer = await call('POST', '/api/v1/tariffs', draft, 'tariff');
      await reload();
      report('ok', t('tariff_created', { id: answer.tariff_id, version: answer.version }), 'tariff-answer');
    } catch (error) {
      problem(error);
    } finally {
      submit.disabled = false;
    }
  };
  const form = h('form', { class: 'card', testid: 'tariff-editor', onsubmit: send, oninput: show, onchange: show },
    h('h2', {}, t('tariff_new')),
    h('div', { class: 'inline' },
      h('label', {}, t('tariff_id'), tariffId),
      h('label', {}, t('tariff_name'), name),
      h('label', {}, t('tariff_from'), from)),
    h('p', { class: 'muted' }, t('tariff_bands_help')),
    h('table', { class: 'prices' },
      h('thead', {}, h('tr', {}, h('th', {}, t('tariff_band')), h('th', {}, t('energy_price')),
                       h('th', {}, t('service_price')))),
      h('tbody', {}, bandRows)),
    h('p', { class: 'muted' }, t('tariff_cells_help')),
    grid,
    h('div', { class: 'bar24-hours muted' }, ['00:00', '06:00', '12:00', '18:00', '24:00'].map((x) => h('span', {}, x))),
    h('div', { class: 'inline' }, fillAll),
    h('h3', {}, t('tariff_idle_title')),
    h('div', { class: 'inline' },
      h('label', {}, t('idle_per_minute'), idlePerMinute),
      h('label', {}, t('idle_grace'), idleGrace),
      h('label', {}, t('idle_cap'), idleCap)),
    h('details', { testid: 'tariff-json-details' }, h('summary', {}, t('tariff_json')), json),
    submit,
    result);
  show();
  return form;
}

/** What a session would cost under a tariff, as the API prices it (its quote route). */
function preview(tariffs, problem) {
  const choice = h('select', { testid: 'preview-tariff' },
    ...tariffs.map((tf) => h('option', { value: tf.tariff_id }, `${tf.tariff_id} · ${tf.name}`)));
  const start = h('input', { type: 'datetime-local', testid: 'preview-start' });
  const end = h('input', { type: 'datetime-local', testid: 'preview-end' });
  const energy = h('input', { type: 'text', inputmode: 'decimal', testid: 'preview-kwh', value: '20' });
  const freed = h('input', { type: 'datetime-local', testid: 'preview-occupied' });
  const out = h('div', { testid: 'preview-result' });
  const send = async (event) => {
    event.preventDefault();
    if (!start.value || !end.value) {
      out.replaceChildren(h('p', { class: 'error', testid: 'preview-problem' }, t('preview_need_times')));
      return;
    }
    const body = { start: isoOf(start.value), end: isoOf(end.value), energy_kwh: energy.value.trim() };
    if (freed.value) body.occupied_until = isoOf(freed.value);
    try {
      const quote = await call('POST', `/api/v1/tariffs/${encodeURIComponent(choice.value)}/quote`, body);
      const lines = quote.lines.map((line) => h('tr', {},
        h('td', {}, t(`band_${line.band}`)),
        h('td', {}, `${when(line.start)} – ${when(line.end)}`),
        h('td', {}, line.energy_kwh),
        h('td', {}, line.energy_money),
        h('td', {}, line.service_money)));
      out.replaceChildren(
        h('p', { testid: 'preview-total', dataset: { total: quote.total } },
          t('preview_total', { total: quote.total, energy: quote.energy_money,
                               service: quote.service_money, idle: quote.idle_fee })),
        h('table', { testid: 'preview-lines' },
          h('thead', {}, h('tr', {}, ...['preview_band', 'preview_span', 'preview_kwh',
            'preview_energy', 'preview_service'].map((k) => h('th', {}, t(k))))),
          h('tbody', {}, ...lines)));
    } catch (error) {
      out.replaceChildren();
      problem(error);
    }
  };
  return h('section', { testid: 'tariff-preview' },
    h('h2', {}, t('preview_title')),
    h('p', { class: 'muted' }, t('preview_intro')),
    h('form', { class: 'filters', testid: 'preview-form', onsubmit: send },
      h('label', {}, t('preview_tariff'), choice),
      h('label', {}, t('preview_start'), start),
      h('label', {}, t('preview_end'), end),
      h('label', {}, t('preview_energy_kwh'), energy),
      h('label', {}, t('preview_occupied'), freed),
      h('button', { type: 'submit', class: 'primary', testid: 'preview-submit' }, t('preview_submit'))),
    out);
}

export async function tariffsPage(view, session, isCurrent, failed) {
  const mayWrite = session.role !== 'viewer';
  const result = h('div', { class: 'result', testid: 'tariff-result', role: 'status' });
  const list = h('div', { testid: 'tariffs' });
  const { report, problem } = resultLine(result, session, failed, 'tariff-error');
  const previewSlot = h('div', {});
  const load = async () => {
    const [tariffs, assignments] = await Promise.all([
      call('GET', '/api/v1/tariffs?limit=1000'),
      call('GET', '/api/v1/tariff-assignments'),
    ]);
    if (!isCurrent()) return;
    list.dataset.count = String(tariffs.length);
    list.replaceChildren(...(tariffs.length === 0
      ? [h('p', { class: 'muted', testid: 'tariffs-empty' }, t('no_tariffs'))]
      : tariffs.map((tariff) => tariffCard(tariff, assignments))));
    previewSlot.replaceChildren(...(tariffs.length ? [preview(tariffs, problem)] : []));
  };
  const sections = [
    h('h1', {}, t('tariffs_title')),
    h('p', { class: 'muted' }, t('tariffs_intro')),
    list,
    mayWrite
      ? editor(result, report, problem, load)
      : h('p', { class: 'muted', testid: 'tariffs-viewer' }, t('tariffs_viewer')),
    previewSlot,
  ];
  await load();
  if (!isCurrent()) return;
  view.replaceChildren(...sections);
}
