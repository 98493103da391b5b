/*
 * Billing page (being built).
 */

import { h } from './dom.js';
import { addWords, t } from './i18n.js';

addWords({
  zh: { nav_billing: '账单结算', billing_title: '账单结算' },
  en: { nav_billing: 'Billing', billing_title: 'Billing' },
});

export async function billingPage(view, session, isCurrent, failed) {
  view.replaceChildren(h('h1', {}, t('billing_title')));
}
