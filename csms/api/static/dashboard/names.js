/*
 * Names of figure keys (kind, scope, subject, unit, status, a missing input) and figure
 * values in their units, from /dashboard/labels.json: the table of csms/monitoring/labels.py
 * that the monthly report uses too, so a key reads the same on the page and in the report.
 * A key the table does not know (a figure newer than this page) reads as its words.
 */

const COUNT_UNITS = ['piles', 'stations', 'places', 'km'];

export function humanize(key) {
  return String(key).replace(/[_.\s]+/g, ' ').trim() || String(key);
}

// The table, or null when it could not be had (keys then read as their words).
export async function loadNames() {
  try {
    const response = await fetch('/dashboard/labels.json', { credentials: 'omit' });
    return response.ok ? await response.json() : null;
  } catch (e) {
    return null;
  }
}

// The page's namer: `current()` gives {names, lang} at each call (both change while it runs).
export function namer(current) {
  function keyName(table, key, count) {
    if (key === null || key === undefined || key === '') return '';
    const { names, lang } = current();
    const row = names && names[table] && names[table][key];
    if (!row) return humanize(key);
    if (lang === 'zh') return row.zh;
    const many = count !== undefined && count !== null && Number(count) !== 1;
    return many && row.en_plural ? row.en_plural : row.en; // "1 pile", "2 piles"
  }

  // shares and space ratios are fractions read as percentages; EVs per pile is a number
  function isPercent(figure) {
    const { names } = current();
    const units = (names && names.percent_units) || ['share', 'ratio'];
    const plain = (names && names.plain_ratio_kind) || { evs_per_pile: {} };
    return units.includes(figure.unit) && !(figure.kind in plain);
  }

  function unitName(figure, count) {
    const { names } = current();
    const plain = names && names.plain_ratio_kind;
    if (plain && plain[figure.kind] && !COUNT_UNITS.includes(figure.unit))
      return keyName('plain_ratio_kind', figure.kind);
    return keyName('unit', figure.unit, count);
  }

  // An engine sentence naming a missing input ("no village places registered"), translated.
  function missingText(text) {
    if (!text) return null;
    const { names, lang } = current();
    for (const rule of (names && names.missing) || []) {
      const hit = new RegExp('^(?:' + rule.pattern + ')$').exec(String(text).trim());
      if (hit) {
        const subject = hit[1] ? keyName('subject', hit[1]) : '';
        return (lang === 'zh' ? rule.zh : rule.en).replace('{x}', subject);
      }
    }
    return String(text);
  }

  // A figure's value in its unit: "2 台" / "1 pile", "15.00%" (as in the monthly report).
  function formatFigure(figure, value) {
    if (value === null || value === undefined || value === '') return '–';
    const number = Number(value);
    if (!Number.isFinite(number)) return String(value);
    if (isPercent(figure)) return (number * 100).toFixed(2) + '%';
    const unit = unitName(figure, value);
    return unit ? String(value) + ' ' + unit : String(value);
  }

  return { keyName, isPercent, unitName, missingText, formatFigure };
}
