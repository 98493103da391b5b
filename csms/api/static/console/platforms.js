/*
 * Monitoring platforms (T/CEC 102): each platform's push health (last success and failure,
 * backlog, oldest pending record) for everyone; its settings and its failed outbox records with
 * a "retry" button for operators and admins. Admins also set platforms up here: add one (the
 * secrets are write-only; the secret the platform presents to query us can be generated, and is
 * then shown once), change its settings or replace a secret, disable and enable it (a disabled
 * platform keeps queueing and catches up when enabled), delete it after a confirm step, queue a
 * full resync (every site's information, every connector's status) and queue daily statistics
 * for a period again. Every answer of the API is said in the page.
 */

import { call, resultLine, writer } from './api.js';
import { h, table } from './dom.js';
import { addWords, t, when } from './i18n.js';

addWords({
  zh: {
    pf_note: '各监管平台（T/CEC 102）的推送情况。运营人员和管理员可重推失败的记录；管理员可在此添加、修改、停用和删除平台，并排队全量同步或统计补报。',
    pf_none: '还没有配置监管平台。',
    pf_none_ask: '还没有配置监管平台；需要时请联系管理员添加。',
    pf_new_title: '添加监管平台',
    pf_id: '平台编号（字母、数字、. _ -）',
    pf_name: '名称',
    pf_url: '平台接口地址（http:// 或 https://）',
    pf_operator_id: '本运营商编号（OperatorID）',
    pf_platform_operator_id: '平台的运营商编号',
    pf_operator_secret: '运营商密钥（OperatorSecret）',
    pf_data_secret: '数据加密密钥（16 个字符）',
    pf_data_iv: '数据加密初始向量（16 个字符）',
    pf_sig_secret: '签名密钥（SigSecret）',
    pf_inbound: '平台查询本系统所用的密钥',
    pf_inbound_none: '不开放查询',
    pf_inbound_generate: '生成一个（只显示一次）',
    pf_inbound_own: '使用下面填写的密钥',
    pf_inbound_keep: '保持不变',
    pf_inbound_revoke: '撤销（关闭查询）',
    pf_inbound_value: '查询密钥',
    pf_service_tel: '服务电话（可不填）',
    pf_spelling: '服务费字段拼写',
    pf_live_interval: '实时数据间隔（秒）',
    pf_enabled_new: '立即启用（并排队全量同步）',
    pf_secrets_note: '密钥只写不读，保存后不再显示；修改时留空表示不变。',
    pf_create: '添加平台',
    pf_created: '平台 {id} 已添加{enabled}。',
    pf_created_enabled: '并已启用，全量同步已排队',
    pf_created_paused: '（未启用：启用后开始推送）',
    pf_secret_once: '平台 {id} 查询本系统所用的密钥如下，只显示这一次：请现在复制并交给平台，之后只能重新生成。',
    pf_missing: '请填写：{list}',
    pf_bad_id: '平台编号只能是 1–64 个字母、数字或 . _ -',
    pf_bad_url: '接口地址须以 http:// 或 https:// 开头且不含空格',
    pf_bad_key: '{field}须为 16 个 ASCII 字符（AES-128）',
    pf_bad_interval: '实时数据间隔须为 1–3600 秒的整数',
    pf_settings: '设置',
    pf_url_short: '接口地址',
    pf_ids: '运营商编号（本方 / 平台）',
    pf_kinds: '推送内容',
    pf_queries: '接受平台查询',
    pf_edit: '修改设置',
    pf_edit_close: '收起修改',
    pf_tel: '服务电话',
    pf_kind_station_info: '场站信息',
    pf_kind_connector_status: '接口状态',
    pf_kind_charge_order: '充电订单',
    pf_kind_station_stats: '日统计',
    pf_kind_charge_status: '实时充电数据',
    pf_no_kind: '至少勾选一种推送内容',
    pf_secrets_new: '密钥只写不读：保存后不再显示，请另行妥善保管。',
    pf_save: '保存设置',
    pf_saved: '平台 {id} 的设置已保存。',
    pf_nothing: '没有修改任何设置。',
    pf_now_enabled: '平台 {id} 已启用，排队的记录将按顺序推送。',
    pf_now_disabled: '平台 {id} 已停用：记录继续排队，重新启用后再推送。',
    pf_delete_confirm: '确定删除平台 {id}？之后不再向它报送数据。',
    pf_deleted: '平台 {id} 已删除。',
    pf_resync: '全量同步',
    pf_resynced: '平台 {id}：已排队 {info} 条场站信息、{status} 条接口状态，将按顺序推送。',
    pf_stats_first: '统计起始日',
    pf_stats_last: '统计结束日',
    pf_stats: '补报统计',
    pf_stats_need: '请选择统计的起止日期（结束不早于开始，最长一年）。',
    pf_stats_queued: '已为所有接收统计的平台排队 {n} 条场站日统计（{first} 至 {last}）；同一时段对每个平台只报一次，已报过的不再排队。',
  },
  en: {
    pf_note: 'How each monitoring platform (T/CEC 102) is being reported to. Operators and admins can send failed records again; admins add, change, disable and delete platforms here and queue a full resync or statistics.',
    pf_none: 'No monitoring platform is set up.',
    pf_none_ask: 'No monitoring platform is set up; ask an administrator to add one when needed.',
    pf_new_title: 'Add a monitoring platform',
    pf_id: 'Platform id (letters, digits, . _ -)',
    pf_name: 'Name',
    pf_url: 'Platform URL (http:// or https://)',
    pf_operator_id: 'Our operator id (OperatorID)',
    pf_platform_operator_id: "The platform's operator id",
    pf_operator_secret: 'Operator secret (OperatorSecret)',
    pf_data_secret: 'Data key (16 characters)',
    pf_data_iv: 'Data IV (16 characters)',
    pf_sig_secret: 'Signing secret (SigSecret)',
    pf_inbound: 'Secret the platform queries us with',
    pf_inbound_none: 'no queries',
    pf_inbound_generate: 'generate one (shown once)',
    pf_inbound_own: 'use the one typed below',
    pf_inbound_keep: 'keep it',
    pf_inbound_revoke: 'revoke it (no queries)',
    pf_inbound_value: 'Query secret',
    pf_service_tel: 'Service phone (optional)',
    pf_spelling: 'Service price field spelling',
    pf_live_interval: 'Live data every (seconds)',
    pf_enabled_new: 'Enable now (and queue a full resync)',
    pf_secrets_note: 'Secrets are write-only and never shown again; leave one empty to keep it.',
    pf_create: 'Add platform',
    pf_created: 'Platform {id} added{enabled}.',
    pf_created_enabled: ' and enabled; a full resync is queued',
    pf_created_paused: ' (disabled: pushes start when it is enabled)',
    pf_secret_once: 'The secret platform {id} queries us with, shown this once: copy it now and give it to the platform; afterwards it can only be generated anew.',
    pf_missing: 'Fill in: {list}',
    pf_bad_id: 'the platform id must be 1-64 letters, digits, . _ -',
    pf_bad_url: 'the URL must start with http:// or https:// and have no spaces',
    pf_bad_key: '{field} must be 16 ASCII characters (AES-128)',
    pf_bad_interval: 'the live data interval must be a whole number of seconds, 1-3600',
    pf_settings: 'Settings',
    pf_url_short: 'URL',
    pf_ids: 'Operator ids (ours / the platform\'s)',
    pf_kinds: 'What is pushed',
    pf_queries: 'Accepts platform queries',
    pf_edit: 'Change settings',
    pf_edit_close: 'Hide the form',
    pf_tel: 'Service phone',
    pf_kind_station_info: 'site information',
    pf_kind_connector_status: 'connector status',
    pf_kind_charge_order: 'charge orders',
    pf_kind_station_stats: 'daily statistics',
    pf_kind_charge_status: 'live charging data',
    pf_no_kind: 'tick at least one thing to push',
    pf_secrets_new: 'Secrets are write-only: they are never shown again, so keep them safely elsewhere.',
    pf_save: 'Save settings',
    pf_saved: 'Settings of platform {id} saved.',
    pf_nothing: 'Nothing was changed.',
    pf_now_enabled: 'Platform {id} enabled; queued records are sent in order.',
    pf_now_disabled: 'Platform {id} disabled: records keep queueing and are sent when it is enabled again.',
    pf_delete_confirm: 'Delete platform {id}? Nothing is reported to it afterwards.',
    pf_deleted: 'Platform {id} deleted.',
    pf_resync: 'Full resync',
    pf_resynced: 'Platform {id}: {info} site information and {status} connector status records queued, sent in order.',
    pf_stats_first: 'Statistics from',
    pf_stats_last: 'Statistics until',
    pf_stats: 'Queue statistics',
    pf_stats_need: 'Choose the first and last day (the last not before the first, at most a year).',
    pf_stats_queued: '{n} daily site statistics queued ({first} to {last}) for every platform that takes statistics; each period goes to a platform once, so periods already reported are not queued again.',
  },
});

const PLATFORM_ID = /^[A-Za-z0-9._-]{1,64}$/;
const URL = /^https?:\/\/\S+$/;
const KEY16 = /^[\x20-\x7e]{16}$/;
const SECRETS = ['operator_secret', 'data_secret', 'data_iv', 'sig_secret'];
const KINDS = ['station_info', 'connector_status', 'charge_order', 'station_stats', 'charge_status'];
const SECRET_WORDS = { operator_secret: 'pf_operator_secret', data_secret: 'pf_data_secret',
                       data_iv: 'pf_data_iv', sig_secret: 'pf_sig_secret' };
const path = (id) => `/api/v1/platforms/${encodeURIComponent(id)}`;

/** The settings fields shared by the create and change forms; `shown` fills them in. */
function settingsInputs(prefix, shown) {
  const input = (name, attrs = {}) => h('input', { testid: `${prefix}-${name}`, autocomplete: 'off', ...attrs });
  const fields = {
    name: input('name', { maxlength: '200', value: shown?.name ?? '' }),
    base_url: input('url', { maxlength: '500', value: shown?.base_url ?? '' }),
    operator_id: input('operator-id', { maxlength: '32', value: shown?.operator_id ?? '' }),
    platform_operator_id: input('platform-operator-id', { maxlength: '32',
                                                         value: shown?.platform_operator_id ?? '' }),
    service_tel: input('service-tel', { maxlength: '32', value: shown?.service_tel ?? '' }),
    spelling: h('select', { testid: `${prefix}-spelling` },
      h('option', { value: 'Sevice' }, 'SevicePrice'), h('option', { value: 'Service' }, 'ServicePrice')),
    live_interval: input('live-interval', { type: 'number', min: '1', max: '3600',
                                            value: String(shown?.live_interval ?? 50) }),
  };
  fields.spelling.value = shown?.spelling ?? 'Sevice';
  const secrets = {};
  for (const name of SECRETS) {
    secrets[name] = input(name.replace('_', '-'), { type: 'password', autocomplete: 'new-password',
                                                    maxlength: name.startsWith('data') ? '16' : '256' });
  }
  const kinds = {};
  const kindTicks = KINDS.map((kind) => {
    kinds[kind] = h('input', { type: 'checkbox', testid: `${prefix}-kind-${kind}`,
                               checked: !shown || shown.kinds.includes(kind) });
    kinds[kind].style.cssText = 'display:inline-block;width:auto;margin:0 0.25rem 0 0';
    return h('label', {}, kinds[kind], t(`pf_kind_${kind}`));
  });
  /** The kinds ticked, in the API's order. */
  const ticked = () => KINDS.filter((kind) => kinds[kind].checked);
  const labels = [
    h('label', {}, t('pf_name'), fields.name),
    h('label', {}, t('pf_url'), fields.base_url),
    h('label', {}, t('pf_operator_id'), fields.operator_id),
    h('label', {}, t('pf_platform_operator_id'), fields.platform_operator_id),
    h('label', {}, t('pf_service_tel'), fields.service_tel),
    h('label', {}, t('pf_spelling'), fields.spelling),
    h('label', {}, t('pf_live_interval'), fields.live_interval),
    ...SECRETS.map((name) => h('label', {}, t(SECRET_WORDS[name]), secrets[name])),
    h('div', { class: 'inline', testid: `${prefix}-kinds` }, t('pf_kinds'), kindTicks),
  ];
  return { fields, secrets, labels, ticked };
}

/** What the console can see is wrong with settings before sending (empty: may go). */
function settingsFaults(values, secrets) {
  const out = [];
  if (values.kinds !== undefined && values.kinds.length === 0) out.push(t('pf_no_kind'));
  if (values.base_url !== undefined && !URL.test(values.base_url)) out.push(t('pf_bad_url'));
  for (const name of ['data_secret', 'data_iv']) {
    if (secrets[name] && !KEY16.test(secrets[name])) out.push(t('pf_bad_key', { field: t(SECRET_WORDS[name]) }));
  }
  if (values.live_interval !== undefined) {
    const n = values.live_interval;
    if (!Number.isInteger(n) || n < 1 || n > 3600) out.push(t('pf_bad_interval'));
  }
  return out;
}

export async function platformsPage(view, session, isCurrent, failed) {
  const mayRetry = session.role !== 'viewer';
  const maySetUp = session.role === 'admin';
  const result = h('div', { class: 'result', testid: 'platform-result', role: 'status' });
  const list = h('div', { testid: 'platforms' });
  const secretOnce = h('div', { testid: 'platform-secret-once' });

  const line = resultLine(result, session, failed, 'platform-error');
  const { report } = line;
  const write = writer(line, { context: 'platform', reload: () => load(),
                               answerTestid: 'platform-answer' });

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
      const retry = h('button', { type: 'button', testid: `outbox-retry-${record.id}`,
                                  disabled: record.requeued_as != null },
                      record.requeued_as != null
                        ? t('outbox_requeued', { id: record.requeued_as }) : t('retry'));
      retry.addEventListener('click', async () => {
        const answer = await write('POST', `${path(platform.id)}/outbox/${record.id}/retry`, undefined,
          (again) => t('outbox_retried', { id: record.id, again: again.requeued_as ?? again.id }), retry);
        if (answer) retry.disabled = true;
      });
      cells.push(h('td', {}, retry));
      return h('tr', { testid: `outbox-${record.id}` }, cells);
    });
    const headers = [t('outbox_id'), t('outbox_kind'), t('outbox_stream'), t('col_created_at'),
                     t('outbox_attempts'), t('outbox_last_answer'), t('col_actions')];
    return table(`platform-${platform.id}-failed`, headers, rows);
  };

  /** A platform's settings as the API shows them (operators and admins): no secret is ever shown. */
  const settingsList = (s) => h('dl', { class: 'fields', testid: `platform-${s.id}-settings` },
    h('dt', {}, t('pf_url_short')), h('dd', { testid: `platform-${s.id}-url` }, s.base_url),
    h('dt', {}, t('pf_ids')), h('dd', {}, `${s.operator_id} / ${s.platform_operator_id}`),
    h('dt', {}, t('pf_kinds')),
    h('dd', { testid: `platform-${s.id}-kinds` }, s.kinds.map((k) => t(`pf_kind_${k}`)).join(t('list_separator'))),
    h('dt', {}, t('pf_spelling')), h('dd', {}, s.spelling),
    h('dt', {}, t('pf_live_interval')), h('dd', {}, String(s.live_interval)),
    h('dt', {}, t('pf_tel')), h('dd', {}, s.service_tel ?? '–'),
    h('dt', {}, t('pf_queries')), h('dd', { testid: `platform-${s.id}-queries` }, s.queries_enabled ? t('yes') : t('no')));

  /** The change form: only the fields changed (and the secrets typed) go in the PATCH. */
  const changeForm = (s) => {
    const { fields, secrets, labels, ticked } = settingsInputs(`platform-edit-${s.id}`, s);
    const inbound = h('select', { testid: `platform-edit-${s.id}-inbound` },
      h('option', { value: 'keep' }, t('pf_inbound_keep')),
      h('option', { value: 'generate' }, t('pf_inbound_generate')),
      h('option', { value: 'revoke' }, t('pf_inbound_revoke')));
    const save = h('button', { type: 'submit', class: 'primary', testid: `platform-save-${s.id}` }, t('pf_save'));
    const submit = async (event) => {
      event.preventDefault();
      const body = {};
      for (const [name, field] of Object.entries(fields)) {
        const value = name === 'live_interval' ? Number(field.value) : field.value.trim();
        const before = s[name] ?? '';
        if (value !== before) body[name] = name === 'service_tel' && value === '' ? null : value;
      }
      const kinds = ticked();
      if (kinds.join() !== KINDS.filter((k) => s.kinds.includes(k)).join()) body.kinds = kinds;
      const typed = {};
      for (const name of SECRETS) if (secrets[name].value) typed[name] = secrets[name].value;
      Object.assign(body, typed);
      if (inbound.value === 'generate') body.inbound_secret = 'generate';
      if (inbound.value === 'revoke') body.inbound_secret = null;
      if (Object.keys(body).length === 0) return report('error', t('pf_nothing'), 'platform-error');
      if (body.name === '') return report('error', t('pf_missing', { list: t('pf_name') }), 'platform-error');
      const found = settingsFaults(body, typed);
      if (found.length) return report('error', t('tf_fix', { list: found.join(t('list_separator')) }), 'platform-error');
      const answer = await write('PATCH', path(s.id), body, () => t('pf_saved', { id: s.id }), save);
      if (answer?.inbound_secret) showSecret(s.id, answer.inbound_secret);
      return answer;
    };
    return h('form', { class: 'card inline', testid: `platform-edit-${s.id}`, hidden: true, onsubmit: submit },
      labels, h('label', {}, t('pf_inbound'), inbound),
      h('p', { class: 'muted' }, t('pf_secrets_note')), save);
  };

  /** Admin buttons: enable/disable, change, resync, statistics, delete (confirmed). */
  const setUp = (p, s) => {
    const id = p.id;
    const toggle = h('button', { type: 'button', testid: `platform-toggle-${id}` }, p.enabled ? t('disable') : t('enable'));
    toggle.addEventListener('click', () => write('PATCH', path(id), { enabled: !p.enabled },
      (answer) => t(answer.enabled ? 'pf_now_enabled' : 'pf_now_disabled', { id }), toggle));
    const edit = s ? changeForm(s) : null;
    const editButton = h('button', { type: 'button', testid: `platform-edit-open-${id}`, disabled: !edit },
                         t('pf_edit'));
    editButton.addEventListener('click', () => {
      edit.hidden = !edit.hidden;
      editButton.textContent = edit.hidden ? t('pf_edit') : t('pf_edit_close');
    });
    const resync = h('button', { type: 'button', testid: `platform-resync-${id}` }, t('pf_resync'));
    resync.addEventListener('click', () => write('POST', `${path(id)}/resync`, undefined,
      (answer) => t('pf_resynced', { id, info: answer.station_info, status: answer.connector_status }), resync));
    const first = h('input', { type: 'date', testid: `platform-stats-first-${id}`, 'aria-label': t('pf_stats_first') });
    const last = h('input', { type: 'date', testid: `platform-stats-last-${id}`, 'aria-label': t('pf_stats_last') });
    const stats = h('button', { type: 'button', testid: `platform-stats-${id}` }, t('pf_stats'));
    stats.addEventListener('click', () => {
      if (!first.value || !last.value || last.value < first.value) {
        report('error', t('pf_stats_need'), 'platform-error');
        return;
      }
      const period = { first: first.value, last: last.value };
      write('POST', `${path(id)}/stats`, period,
            (answer) => t('pf_stats_queued', { n: answer.station_stats, ...period }), stats);
    });
    const remove = h('button', { type: 'button', class: 'danger', testid: `platform-delete-${id}` }, t('delete'));
    const confirm = h('span', { class: 'inline', testid: `platform-confirm-${id}`, hidden: true },
      t('pf_delete_confirm', { id }),
      h('button', { type: 'button', class: 'danger', testid: `platform-delete-yes-${id}`,
                    onclick: (event) => write('DELETE', path(id), undefined, () => t('pf_deleted', { id }),
                                              event.target) }, t('delete_yes')),
      h('button', { type: 'button', testid: `platform-delete-no-${id}`,
                    onclick: () => { confirm.hidden = true; remove.hidden = false; } }, t('cancel')));
    remove.addEventListener('click', () => { confirm.hidden = false; remove.hidden = true; });
    return [
      h('div', { class: 'inline', testid: `platform-${id}-actions` }, toggle, editButton, resync,
        h('label', {}, t('pf_stats_first'), first), h('label', {}, t('pf_stats_last'), last), stats,
        remove, confirm),
      edit,
    ];
  };

  const card = (p, s, failedOf) => h('section', { class: 'card', testid: `platform-${p.id}` },
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
    s ? [h('h3', {}, t('pf_settings')), settingsList(s)] : null,
    maySetUp ? setUp(p, s) : null,
    failedOf === null ? null : [h('h3', {}, t('platform_failed_records')), failedRecords(p, failedOf)]);

  const load = async () => {
    const [health, settings] = await Promise.all([
      call('GET', '/api/v1/platforms/health'),
      mayRetry ? call('GET', '/api/v1/platforms') : Promise.resolve([]),
    ]);
    const failedOf = mayRetry
      ? await Promise.all(health.map((p) => call('GET', `${path(p.id)}/outbox?state=failed&limit=100`)))
      : health.map(() => null);
    if (!isCurrent()) return;
    list.dataset.count = String(health.length);
    if (health.length === 0) {
      list.replaceChildren(h('p', { class: 'muted', testid: 'platforms-empty' },
                             maySetUp ? t('pf_none') : t('pf_none_ask')));
      return;
    }
    const settingsOf = new Map(settings.map((s) => [s.id, s]));
    list.replaceChildren(...health.map((p, i) => card(p, settingsOf.get(p.id), failedOf[i])));
  };

  function showSecret(id, secret) {
    secretOnce.replaceChildren(h('div', { class: 'card' },
      h('p', {}, t('pf_secret_once', { id })),
      h('code', { testid: 'platform-secret-value' }, secret)));
  }

  await load();
  if (!isCurrent()) return;
  view.replaceChildren(
    h('h1', {}, t('platforms_title')),
    h('p', { class: 'muted' }, t('pf_note')),
    result,
    secretOnce,
    list,
    maySetUp ? createForm() : null,
  );

  /** Adding a platform (admins): every field POST /api/v1/platforms needs, checked first. */
  function createForm() {
    const { fields, secrets, labels, ticked } = settingsInputs('platform-new', null);
    const id = h('input', { testid: 'platform-new-id', autocomplete: 'off', maxlength: '64' });
    const enabled = h('input', { type: 'checkbox', testid: 'platform-new-enabled', checked: true });
    enabled.style.cssText = 'display:inline-block;width:auto;margin-right:0.3rem';
    const inbound = h('select', { testid: 'platform-new-inbound' },
      h('option', { value: 'none' }, t('pf_inbound_none')),
      h('option', { value: 'generate' }, t('pf_inbound_generate')),
      h('option', { value: 'own' }, t('pf_inbound_own')));
    const inboundValue = h('input', { type: 'password', testid: 'platform-new-inbound-value',
                                      autocomplete: 'new-password', maxlength: '256' });
    const inboundLabel = h('label', { hidden: true }, t('pf_inbound_value'), inboundValue);
    inbound.addEventListener('change', () => { inboundLabel.hidden = inbound.value !== 'own'; });
    const submit = h('button', { type: 'submit', class: 'primary', testid: 'platform-create-submit' }, t('pf_create'));
    const send = async (event) => {
      event.preventDefault();
      const body = { id: id.value.trim(), enabled: enabled.checked };
      for (const [name, field] of Object.entries(fields)) {
        const value = name === 'live_interval' ? Number(field.value) : field.value.trim();
        if (value !== '') body[name] = value;
      }
      for (const name of SECRETS) body[name] = secrets[name].value;
      if (ticked().length < KINDS.length) body.kinds = ticked(); // all ticked: the API's default
      if (inbound.value === 'generate') body.inbound_secret = 'generate';
      if (inbound.value === 'own') body.inbound_secret = inboundValue.value;
      const words = { id: 'pf_id', name: 'pf_name', base_url: 'pf_url', operator_id: 'pf_operator_id',
                      platform_operator_id: 'pf_platform_operator_id', ...SECRET_WORDS };
      const missing = Object.keys(words).filter((name) => !body[name]);
      if (inbound.value === 'own' && !inboundValue.value) missing.push('inbound_secret');
      words.inbound_secret = 'pf_inbound_value';
      if (missing.length) {
        report('error', t('pf_missing', { list: missing.map((m) => t(words[m])).join(t('list_separator')) }),
               'platform-error');
        return;
      }
      const found = PLATFORM_ID.test(body.id) ? [] : [t('pf_bad_id')];
      found.push(...settingsFaults(body, body));
      if (found.length) {
        report('error', t('tf_fix', { list: found.join(t('list_separator')) }), 'platform-error');
        return;
      }
      const answer = await write('POST', '/api/v1/platforms', body, (made) => t('pf_created', {
        id: made.id, enabled: t(made.enabled ? 'pf_created_enabled' : 'pf_created_paused') }), submit);
      if (!answer) return;
      secretOnce.replaceChildren();
      if (answer.inbound_secret) showSecret(answer.id, answer.inbound_secret);
      for (const field of [id, inboundValue, ...Object.values(secrets)]) field.value = '';
    };
    return h('form', { class: 'card', testid: 'platform-create', onsubmit: send },
      h('h2', {}, t('pf_new_title')),
      h('div', { class: 'inline' }, h('label', {}, t('pf_id'), id), labels,
        h('label', {}, t('pf_inbound'), inbound), inboundLabel,
        h('label', {}, enabled, t('pf_enabled_new'))),
      h('p', { class: 'muted' }, t('pf_secrets_new')),
      submit);
  }
}
