/*
 * Monitoring platforms (T/CEC 102), read-only: each platform's push health (last success and
 * failure, backlog, oldest pending record) and, for operators and admins, its failed outbox
 * records with a "retry" button. Platforms are set up through the API (admins).
 */

import { call, resultLine } from './api.js';
import { h, table } from './dom.js';
import { t, when } from './i18n.js';

export async function platformsPage(view, session, isCurrent, failed) {
  const mayRetry = session.role !== 'viewer';
  const result = h('div', { class: 'result', testid: 'platform-result', role: 'status' });
  const list = h('div', { testid: 'platforms' });

  const { report, problem } = resultLine(result, session, failed, 'platform-error');

  const failedRecords = (platform, records) => {
    if (records.length === 0) {
      return h('p', { class: 'muted', testid: `platform-${platform.id}-no-failed` },
               t('platform_no_failed'));
    }
    const rows = records.map((record) => {
      const cells = [
        h('td', {}, String(record.id)),
        h('td', {}, record.kind),
        h('td', {}, record.stream),
        h('td', {}, when(record.created_at)),
        h('td', {}, String(record.attempts)),
        h('td', {}, record.last_ret == null ? '–' : `${record.last_ret} ${record.last_msg ?? ''}`.trim()),
      ];
      if (mayRetry) {
        const retry = h('button', { type: 'button', testid: `outbox-retry-${record.id}`,
                                    disabled: record.requeued_as != null },
                        record.requeued_as != null
                          ? t('outbox_requeued', { id: record.requeued_as }) : t('retry'));
        retry.addEventListener('click', async () => {
          retry.disabled = true;
          try {
            const answer = await call('POST', `/api/v1/platforms/${encodeURIComponent(platform.id)}`
                                      + `/outbox/${record.id}/retry`, undefined, 'platform');
            await load();
            report('ok', t('outbox_retried', { id: record.id, again: answer.requeued_as ?? answer.id }),
                   'platform-answer');
          } catch (error) {
            retry.disabled = false;
            problem(error);
          }
        });
        cells.push(h('td', {}, retry));
      }
      return h('tr', { testid: `outbox-${record.id}` }, cells);
    });
    const headers = [t('outbox_id'), t('outbox_kind'), t('outbox_stream'), t('col_created_at'),
                     t('outbox_attempts'), t('outbox_last_answer')];
    if (mayRetry) headers.push(t('col_actions'));
    return table(`platform-${platform.id}-failed`, headers, rows);
  };

  const load = async () => {
    const health = await call('GET', '/api/v1/platforms/health');
    const failedOf = mayRetry
      ? await Promise.all(health.map((p) => call(
        'GET', `/api/v1/platforms/${encodeURIComponent(p.id)}/outbox?state=failed&limit=100`)))
      : health.map(() => null);
    if (!isCurrent()) return;
    list.dataset.count = String(health.length);
    if (health.length === 0) {
      list.replaceChildren(h('p', { class: 'muted', testid: 'platforms-empty' }, t('no_platforms')));
      return;
    }
    list.replaceChildren(...health.map((p, i) => h('section', { class: 'card', testid: `platform-${p.id}` },
      h('h2', {}, `${p.name}（${p.id}）`),
      h('dl', { class: 'fields' },
        h('dt', {}, t('platform_enabled')),
        h('dd', { testid: `platform-${p.id}-enabled` }, p.enabled ? t('yes') : t('no')),
        h('dt', {}, t('platform_last_success')), h('dd', {}, p.last_success_at ? when(p.last_success_at) : '–'),
        h('dt', {}, t('platform_last_failure')),
        h('dd', {}, p.last_failure_at
          ? `${when(p.last_failure_at)} ${p.last_ret ?? ''} ${p.last_msg ?? ''}`.trim() : '–'),
        h('dt', {}, t('platform_pending')), h('dd', { testid: `platform-${p.id}-pending` }, String(p.pending)),
        h('dt', {}, t('platform_failed')), h('dd', { testid: `platform-${p.id}-failed-count` }, String(p.failed)),
        h('dt', {}, t('platform_oldest')),
        h('dd', {}, p.oldest_pending_at
          ? t('platform_oldest_value', { at: when(p.oldest_pending_at),
                                          minutes: Math.round((p.oldest_pending_seconds ?? 0) / 60) })
          : '–')),
      failedOf[i] === null ? null : [h('h3', {}, t('platform_failed_records')), failedRecords(p, failedOf[i])],
    )));
  };

  await load();
  if (!isCurrent()) return;
  view.replaceChildren(
    h('h1', {}, t('platforms_title')),
    h('p', { class: 'muted' }, t('platforms_note')),
    result,
    list,
  );
}
