/*
 * Building elements without innerHTML: every text from the API goes in as a text node, so a
 * station name can never become markup.
 */

/** h('button', {testid: 'x', onclick: f, class: 'primary'}, 'text', child, ...) */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'testid') element.dataset.testid = value;
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name === 'value') element.value = value;
    else element.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** A table of `rows` (arrays of cells) under a header row. */
export function table(testid, headers, rows) {
  return h(
    'table',
    { testid },
    h('thead', {}, h('tr', {}, headers.map((text) => h('th', {}, text)))),
    h('tbody', {}, rows),
  );
}

/** Previous/next buttons for a list asked `limit` rows at a time; `more`: a next page exists. */
export function pager(testid, offset, limit, more, go, labels) {
  const prev = h('button', { type: 'button', testid: `${testid}-prev`, disabled: offset === 0,
                             onclick: () => go(Math.max(0, offset - limit)) }, labels.prev);
  const next = h('button', { type: 'button', testid: `${testid}-next`, disabled: !more,
                             onclick: () => go(offset + limit) }, labels.next);
  return h('div', { class: 'inline pager', testid }, prev, h('span', { class: 'muted' }, labels.page), next);
}

/** A datetime-local input's value as an ISO instant with offset ('' stays ''). */
export function isoOf(local) {
  return local ? new Date(local).toISOString() : '';
}

/** An ISO instant as a datetime-local input's value, in the browser's zone. */
export function localOf(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return new Date(date.getTime() - date.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}
