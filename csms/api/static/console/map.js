/*
 * Map page (being built).
 */

import { h } from './dom.js';
import { addWords, t } from './i18n.js';

addWords({
  zh: { nav_map: '地图', map_title: '地图' },
  en: { nav_map: 'Map', map_title: 'Map' },
});

export async function mapPage(view, session, isCurrent, failed) {
  view.replaceChildren(h('h1', {}, t('map_title')));
}
