/*
 * Sharing page (being built).
 */

import { h } from './dom.js';
import { addWords, t } from './i18n.js';

addWords({
  zh: { nav_sharing: '共享', sharing_title: '共享' },
  en: { nav_sharing: 'Sharing', sharing_title: 'Sharing' },
});

export async function sharingPage(view, session, isCurrent, failed) {
  view.replaceChildren(h('h1', {}, t('sharing_title')));
}
