// The console page: a phone-sized run of the sample flow plus live views of the stack.
// Plain browser JavaScript on purpose: no build step, nothing to download — and one file (over 250
// lines) for the same reason: the page loads it with one script tag.
'use strict';

const $ = (id) => document.getElementById(id);
const yuan = (fen) => '¥' + (Number(fen || 0) / 100).toFixed(2);
const esc = (v) =>
  String(v ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );
const time = (iso) => (iso ? new Date(iso).toLocaleTimeString() : '');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const session = { user: null, token: null, cart: new Map(), payment: null, order: null, before: undefined };
let state = {
  products: [],
  users: [],
  orders: [],
  refunds: [],
  notifications: [],
  deliveries: [],
  invocations: [],
  messages: [],
  errors: [],
};

function showError(message) {
  const el = $('error');
  el.textContent = message;
  el.hidden = !message;
}

function say(text) {
  $('phone-msg').textContent = text;
}

function show(view, title) {
  for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== 'view-' + view;
  $('phone-title').textContent = title;
}

async function http(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = { raw: text };
  }
  if (!res.ok)
    throw new Error(
      `${method} ${path} → ${res.status} ${json.error?.message || json.error || json.message || text}`,
    );
  return json;
}

/** wx.cloud.callFunction through the host, with the identity the platform would attach. */
async function callFunction(name, data) {
  const res = await fetch('/functions/' + name, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-wx-openid': session.user.openid,
      'x-wx-appid': session.user.appid,
    },
    body: JSON.stringify(data),
  });
  const body = await res.json();
  const result = body.result;
  if (!res.ok || !result)
    throw new Error(`${name}: ${body.errMsg || body.error || 'the function failed'} (${res.status})`);
  return result;
}

/** Unwraps the {ok, data | error} envelope; a user-facing failure goes to the phone, not the error banner. */
async function call(name, data) {
  const result = await callFunction(name, data);
  if (result.ok) return result.data;
  const err = new Error(`${result.error.code}: ${result.error.message}`);
  err.expected = true;
  throw err;
}

async function guarded(fn) {
  try {
    await fn();
  } catch (err) {
    if (err.expected) say(err.message);
    else {
      showError(err.message);
      console.warn(err);
    }
  }
}

// ---------- phone flow ----------
async function newUserAndLogin() {
  const user = await http('POST', '/console/sim/users', { withUnionid: true });
  session.user = user;
  const { code } = await http('POST', '/console/sim/login-codes', { openid: user.openid });
  const login = await call('login', { code, profile: { nickName: 'Test ' + user.openid.slice(-4) } });
  session.token = login.token;
  $('phone-user').textContent = login.user.nickName || user.openid.slice(0, 10);
  say(login.user.isNew ? 'Welcome! New account created.' : 'Welcome back.');
  renderCatalog();
  renderInbox();
  show('catalog', 'Catalog');
}

function renderCatalog() {
  const items = state.products.filter((p) => p.active);
  $('catalog').innerHTML = items
    .map(
      (p) => `
    <li data-product="${esc(p._id)}"><span>${esc(p.name)}<br><span class="muted small">${yuan(p.priceFen)}</span></span>
      <span><button class="secondary" data-dec="${esc(p._id)}">−</button> <b data-qty="${esc(p._id)}">${session.cart.get(p._id) || 0}</b>
      <button class="secondary" data-inc="${esc(p._id)}">+</button></span></li>`,
    )
    .join('');
  const total = items.reduce((sum, p) => sum + (session.cart.get(p._id) || 0) * p.priceFen, 0);
  $('cart-total').textContent = yuan(total);
  $('buy').disabled = total === 0;
}

async function buy() {
  const items = [...session.cart]
    .filter(([, q]) => q > 0)
    .map(([productId, quantity]) => ({ productId, quantity }));
  // One idempotency key per checkout: a retry of this button press never creates a second order.
  session.idempotencyKey = session.idempotencyKey || 'ck_' + crypto.randomUUID().replace(/-/g, '');
  const subscriptions = $('subscribe-notify').checked ? await requestSubscribeMessage() : [];
  say('Creating the order…');
  const created = await call('createPayment', {
    items,
    idempotencyKey: session.idempotencyKey,
    ...(subscriptions.length ? { subscriptions } : {}),
  });
  session.payment = created;
  $('pay-amount').textContent = yuan(created.amountFen);
  $('pay-desc').textContent = 'Order ' + created.orderId;
  show('pay', 'Pay');
  say('');
}

/**
 * wx.requestSubscribeMessage with the user tapping 允许 for every template of the account: WeChat
 * grants one message each; createPayment gets the accepted ids, as the mini-program passes them.
 */
async function requestSubscribeMessage() {
  const { templates } = await http('GET', '/console/sim/templates');
  const ids = templates.map((t) => t.templateId).slice(0, 3);
  for (const templateId of ids)
    await http('POST', '/console/sim/subscriptions', { openid: session.user.openid, templateId });
  return ids;
}

async function pay(outcome) {
  const p = session.payment;
  const { errMsg } = await http('POST', '/console/sim/pay', {
    openid: session.user.openid,
    ...p.payment,
    outcome,
  });
  say('wx.requestPayment → ' + errMsg);
  session.idempotencyKey = undefined;
  session.cart.clear();
  await openOrder(p.orderId, errMsg === 'requestPayment:ok');
}

async function openOrder(orderId, waitForPaid) {
  show('order', 'Order');
  let order = await call('orders', { action: 'get', orderId });
  // The phone says "paid" before the notification lands; orders.get asks WeChat, so a few polls settle it.
  for (let i = 0; waitForPaid && order.status === 'NOTPAY' && i < 20; i++) {
    await sleep(300);
    order = await call('orders', { action: 'get', orderId });
  }
  session.order = order;
  renderOrder();
}

function renderOrder() {
  const o = session.order;
  if (!o) return;
  $('order-id').textContent = o.orderId;
  $('order-status').textContent = o.status;
  $('order-status').className = 'st-' + o.status;
  $('order-amount').textContent = yuan(o.amountFen);
  $('order-refunded').textContent =
    yuan(o.refundedFen) + (o.refundingFen ? ` (+${yuan(o.refundingFen)} processing)` : '');
  $('order-refunds').innerHTML = (o.refunds || [])
    .map(
      (r) =>
        `<li><code>${esc(r.refundId)}</code><span>${yuan(r.amountFen)} <b class="st-${esc(r.status)}">${esc(r.status)}</b></span></li>`,
    )
    .join('');
  $('refund').hidden = o.status !== 'SUCCESS' || o.refundedFen + o.refundingFen >= o.amountFen;
  $('refund-complete').hidden = !(o.refunds || []).some((r) => r.status === 'PROCESSING');
  const f = o.fulfilment;
  $('order-fulfilment').innerHTML = f ? fulfilmentLabel(f) : '';
  $('confirm-receipt').hidden = !f || f.status !== 'SHIPPED';
}

/** "express · SHIPPED" and the packages, as the orders table and the phone show it. */
function fulfilmentLabel(f) {
  const packages = (f.shipments || []).map((s) => `${s.expressCompany} ${s.trackingNo}`).join(', ');
  return (
    `${esc(f.type)} · ${status(f.status)}` +
    (packages ? ` <span class="muted small">${esc(packages)}</span>` : '')
  );
}

/** Re-reads the phone's order (as its buyer) when something outside the phone changed it. */
async function refreshOrder(orderId) {
  if (!session.order || session.order.orderId !== orderId || !session.user) return;
  session.order = await call('orders', { action: 'get', orderId });
  renderOrder();
}

async function refund() {
  const r = await call('refund', { orderId: session.order.orderId, reason: 'demo refund' });
  say(`Refund ${r.refundId}: ${r.status} — not final until WeChat confirms.`);
  await openOrder(session.order.orderId, false);
}

async function completeRefund() {
  const pending = (session.order.refunds || []).find((r) => r.status === 'PROCESSING');
  if (!pending) return;
  await http('POST', `/console/sim/refunds/${encodeURIComponent(pending.refundId)}/complete`, {
    status: 'SUCCESS',
  });
  say('WeChat completed the refund; waiting for the notification…');
  for (let i = 0; i < 20; i++) {
    await sleep(300);
    session.order = await call('orders', { action: 'get', orderId: session.order.orderId });
    if (!(session.order.refunds || []).some((r) => r.status === 'PROCESSING')) break;
  }
  renderOrder();
  const done = (session.order.refunds || []).find((r) => r.refundId === pending.refundId);
  // The waiting message must not outlive the wait: say how it ended.
  say(
    done && done.status !== 'PROCESSING'
      ? `Refund ${done.refundId}: ${done.status}; the order is ${session.order.status}.`
      : `Refund ${pending.refundId} is still PROCESSING: the notification has not arrived yet (see Notification deliveries).`,
  );
}

/**
 * The buyer confirms receipt in WeChat's 确认收货 component (wx.openBusinessView 'weappOrderConfirm');
 * here the simulator plays that part, then WeChat pushes the event to wxMessage, which updates the order.
 */
async function confirmReceipt() {
  const orderId = session.order.orderId;
  await http('POST', `/console/sim/shipping/${encodeURIComponent(orderId)}/confirm`);
  say('确认收货 done in WeChat; waiting for the event to reach wxMessage…');
  for (let i = 0; i < 20; i++) {
    await sleep(300);
    session.order = await call('orders', { action: 'get', orderId });
    if (session.order.fulfilment && session.order.fulfilment.status !== 'SHIPPED') break;
  }
  renderOrder();
  const now = session.order.fulfilment ? session.order.fulfilment.status : 'unknown';
  say(
    now === 'SHIPPED'
      ? 'Receipt confirmed in WeChat, but the event has not reached wxMessage yet (see Notification log).'
      : `Receipt confirmed: the order is ${now}.`,
  );
}

// ---------- admin: ship a paid physical order ----------
function openShipForm(orderId) {
  $('ship-order').textContent = orderId;
  $('ship-form').hidden = false;
  $('ship-msg').textContent = '';
  $('ship-tracking').focus();
}

/**
 * Calls the admin-only `ship` as the openid in the form, else the signed-in user; either must be in
 * ADMIN_OPENIDS. Every failure (not an admin, unpaid, bad tracking number…) is shown under the form.
 */
async function shipOrder() {
  const orderId = $('ship-order').textContent;
  const appid = (session.user && session.user.appid) || (state.users[0] && state.users[0].appid);
  const openid = $('ship-admin').value.trim() || (session.user && session.user.openid);
  const msg = $('ship-msg');
  if (!openid || !appid) {
    msg.textContent = 'Sign in on the phone (or enter an admin openid) first: ship runs as an admin.';
    return;
  }
  const shipment = { trackingNo: $('ship-tracking').value.trim(), expressCompany: $('ship-company').value };
  const contact = $('ship-contact').value.trim();
  if (contact) shipment.consignorContact = contact;
  msg.textContent = 'Shipping…';
  try {
    const res = await fetch('/functions/ship', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-wx-openid': openid, 'x-wx-appid': appid },
      body: JSON.stringify({ orderId, shipments: [shipment] }),
    });
    const body = await res.json();
    const result = body.result;
    if (!res.ok || !result) msg.textContent = `ship failed: ${body.errMsg || body.error || res.status}`;
    else if (!result.ok) msg.textContent = `ship: ${result.error.code}: ${result.error.message}`;
    else {
      msg.textContent = `Shipped ${orderId}: ${result.data.fulfilment.status}.`;
      $('ship-form').hidden = true;
      await refreshOrder(orderId);
    }
  } catch (err) {
    msg.textContent = `ship failed: ${err.message}`;
  }
}

async function listOrders(more) {
  if (!more) session.before = undefined;
  const page = await call('orders', { action: 'list', pageSize: 5, before: session.before });
  const html = page.orders
    .map(
      (
        o,
      ) => `<li><span><code>${esc(o.orderId)}</code><br><span class="muted small">${esc(o.description)}</span></span>
    <span>${yuan(o.amountFen)} <b class="st-${esc(o.status)}">${esc(o.status)}</b> <button class="secondary" data-open="${esc(o.orderId)}">›</button></span></li>`,
    )
    .join('');
  $('orders-list').innerHTML = more ? $('orders-list').innerHTML + html : html;
  session.before = page.nextBefore;
  $('orders-more').hidden = !page.nextBefore;
  show('orders', 'My orders');
}

// ---------- faults ----------
const FAULTS = {
  'notify-drop': ['/console/sim/faults', { target: 'notify', kind: 'drop', count: 1 }],
  'notify-duplicate': ['/console/sim/faults', { target: 'notify', kind: 'duplicate', count: 5 }],
  'notify-delay': ['/console/sim/faults', { target: 'notify', kind: 'delay', delayMs: 3000, count: 1 }],
  'jsapi-timeout': ['/console/sim/faults', { target: 'jsapi', kind: 'timeout', count: 1 }],
  'refund-5xx': ['/console/sim/faults', { target: 'refund', kind: '5xx', count: 1 }],
  'refund-lost': ['/console/sim/faults', { target: 'refund', kind: 'lostResponse', count: 1 }],
  'db-update': [
    '/console/emu/faults',
    {
      action: 'update',
      collection: 'orders',
      count: 2,
      error: { code: 'DATABASE_REQUEST_FAILED', message: 'injected by the console' },
    },
  ],
  'db-notify': [
    '/console/emu/faults',
    {
      action: 'insert',
      collection: 'notifications',
      count: 1,
      error: { code: 'DATABASE_REQUEST_FAILED', message: 'injected by the console' },
    },
  ],
};

async function fault(name) {
  if (name === 'clear') {
    await http('DELETE', '/console/sim/faults');
    await http('DELETE', '/console/emu/faults');
    $('fault-msg').textContent = 'All faults cleared.';
    return;
  }
  const [path, body] = FAULTS[name];
  await http('POST', path, body);
  $('fault-msg').textContent = 'Armed: ' + name;
}

// ---------- live tables ----------
function table(id, columns, rows) {
  $(id).innerHTML =
    '<tr>' +
    columns.map((c) => `<th>${esc(c[0])}</th>`).join('') +
    '</tr>' +
    (rows.length
      ? rows.map((r) => '<tr>' + columns.map((c) => `<td>${c[1](r)}</td>`).join('') + '</tr>').join('')
      : `<tr><td colspan="${columns.length}" class="muted">none yet</td></tr>`);
}
const status = (s) => `<span class="st-${esc(String(s).split(':')[0])}">${esc(s)}</span>`;

/** A paid express order not yet confirmed: the first shipment, or its one allowed change. */
const shippable = (o) =>
  o.status === 'SUCCESS' &&
  o.fulfilment &&
  o.fulfilment.type === 'express' &&
  (o.fulfilment.status === 'PENDING' || o.fulfilment.status === 'SHIPPED');

function renderTables() {
  table(
    't-deliveries',
    [
      ['event', (d) => esc(d.eventType)],
      ['order / refund', (d) => `<code>${esc(d.outRefundNo || d.outTradeNo || '')}</code>`],
      ['state', (d) => status(d.state)],
      [
        'attempts',
        (d) =>
          (d.attempts || [])
            .map(
              (a) =>
                `<span class="attempt ${a.status >= 200 && a.status < 300 ? 'ok' : 'bad'}" title="${esc(a.at)} · ${esc(a.durationMs)} ms">${esc(a.status || 'no answer')}</span>`,
            )
            .join(''),
      ],
      ['next retry', (d) => esc(d.state === 'pending' && d.nextAttemptAt ? time(d.nextAttemptAt) : '')],
      ['', (d) => `<button class="secondary" data-replay="${esc(d.id)}">replay</button>`],
    ],
    state.deliveries,
  );
  table(
    't-orders',
    [
      ['order', (o) => `<code data-order="${esc(o._id)}">${esc(o._id)}</code>`],
      ['status', (o) => status(o.status)],
      ['amount', (o) => yuan(o.amountFen)],
      ['refunded', (o) => yuan(o.refundedFen) + (o.refundingFen ? ` +${yuan(o.refundingFen)}` : '')],
      ['fulfilment', (o) => (o.fulfilment ? fulfilmentLabel(o.fulfilment) : '')],
      ['created', (o) => esc(time(o.createdAt))],
      ['', (o) => (shippable(o) ? `<button class="secondary" data-ship="${esc(o._id)}">ship</button>` : '')],
    ],
    state.orders,
  );
  table(
    't-refunds',
    [
      ['refund', (r) => `<code>${esc(r._id)}</code>`],
      ['order', (r) => `<code>${esc(r.outTradeNo)}</code>`],
      ['amount', (r) => yuan(r.amountFen)],
      ['status', (r) => status(r.status)],
      ['applied', (r) => (r.appliedToOrder ? 'yes' : '')],
    ],
    state.refunds,
  );
  table(
    't-notifications',
    [
      ['received', (n) => esc(time(n.receivedAt))],
      ['event', (n) => esc(n.eventType)],
      ['for', (n) => `<code>${esc(n.outRefundNo || n.outTradeNo || '')}</code>`],
      ['outcome', (n) => status(n.outcome)],
    ],
    state.notifications,
  );
  table(
    't-invocations',
    [
      ['at', (r) => esc(time(r.at))],
      ['function', (r) => `<code>${esc(r.functionName)}</code>`],
      ['trigger', (r) => esc(r.trigger)],
      ['start', (r) => (r.cold ? `cold ${esc(Math.round(r.coldStartMs || 0))} ms` : 'warm')],
      ['ms', (r) => esc(Math.round(r.durationMs))],
      ['outcome', (r) => `${status(r.outcome)} ${esc(r.status)}`],
      ['detail', (r) => `<span class="small">${esc(r.errorMessage || '')}</span>`],
    ],
    state.invocations || [],
  );
  table(
    't-users',
    [
      ['openid', (u) => `<code>${esc(u._id)}</code>`],
      ['name', (u) => esc(u.nickName)],
      ['phone', (u) => esc(u.phone || '')],
      ['logins', (u) => esc(u.loginCount)],
      ['last login', (u) => esc(time(u.lastLoginAt))],
    ],
    state.users,
  );
  if (!$('view-catalog').hidden) renderCatalog();
  renderInbox();
}

/** The signed-in user's 服务通知: each message's title, values under their names, and when it came. */
function renderInbox() {
  const mine = session.user ? (state.messages || []).filter((m) => m.openid === session.user.openid) : [];
  $('phone-inbox').hidden = !session.user;
  $('inbox').innerHTML = mine.length
    ? mine
        .map(
          (m) =>
            `<li data-msgid="${esc(m.msgid)}"><b>${esc(m.title)}</b> <span class="muted">${esc(time(m.sentAt))}</span><dl>` +
            m.lines.map((l) => `<dt class="muted">${esc(l.name)}</dt><dd>${esc(l.value)}</dd>`).join('') +
            '</dl></li>',
        )
        .join('')
    : '<li class="muted">no messages yet</li>';
}

function connect() {
  const events = new EventSource('/console/api/events');
  events.addEventListener('state', (e) => {
    state = JSON.parse(e.data);
    if (state.errors && state.errors.length) showError(state.errors.join('; '));
    renderTables();
  });
  events.onopen = () => {
    $('live').textContent = 'live';
    $('live').classList.remove('off');
  };
  events.onerror = () => {
    $('live').textContent = 'reconnecting';
    $('live').classList.add('off');
  };
}

// ---------- bill reconciliation (billReconcile results) ----------
let reconciliations = [];
let reconSelected = '';
const totals = (t) =>
  t ? `${esc(t.payments)} pay ${yuan(t.paymentFen)} · ${esc(t.refunds)} ref ${yuan(t.refundFen)}` : '';
const brief = (v) =>
  v
    ? esc(
        Object.entries(v)
          .map(([k, x]) => `${k} ${k.endsWith('Fen') ? yuan(x) : x}`)
          .join(', '),
      )
    : '';

function renderReconciliations() {
  table(
    't-reconciliations',
    [
      ['day', (r) => `<button class="secondary" data-recon="${esc(r._id)}">${esc(r._id)}</button>`],
      ['status', (r) => status(r.status)],
      ['ours', (r) => totals(r.local)],
      ['WeChat', (r) => totals(r.wechat)],
      [
        'differences',
        (r) =>
          r.unavailable
            ? esc(`${r.unavailable.code}: ${r.unavailable.message}`)
            : esc(r.discrepancies.length + (r.omitted ? ` (+${r.omitted} not listed)` : '')),
      ],
      ['run', (r) => esc(time(r.runAt))],
    ],
    reconciliations,
  );
  const day = reconciliations.find((r) => r._id === reconSelected) || reconciliations[0];
  table(
    't-discrepancies',
    [
      ['kind', (d) => status(d.kind)],
      ['order', (d) => `<code>${esc(d.outTradeNo || '')}</code>`],
      ['refund', (d) => `<code>${esc(d.outRefundNo || '')}</code>`],
      ['ours', (d) => brief(d.local)],
      ['WeChat', (d) => brief(d.wechat)],
    ],
    day ? day.discrepancies : [],
  );
  $('recon-msg').textContent = day
    ? `Discrepancies of ${day._id} (see README: Daily bill reconciliation)`
    : '';
}

async function loadReconciliations() {
  reconciliations = await http('GET', '/console/api/reconciliations');
  renderReconciliations();
}

/**
 * Runs billReconcile for a day as the console's user, who must be an admin (ADMIN_OPENIDS): only the
 * platform's timer and admins may run it, never an anonymous caller.
 */
async function runReconciliation() {
  const date = $('recon-date').value;
  const identity = session.user
    ? { 'x-wx-openid': session.user.openid, 'x-wx-appid': session.user.appid }
    : {};
  const res = await fetch('/functions/billReconcile', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...identity },
    body: JSON.stringify(date ? { date } : {}),
  });
  const body = await res.json();
  const result = body.result;
  if (!res.ok || !result) throw new Error(`billReconcile: ${body.errMsg || body.error || res.status}`);
  if (!result.ok) throw new Error(`billReconcile: ${result.error.code}: ${result.error.message}`);
  reconSelected = result.data._id;
  await loadReconciliations();
}

// ---------- wiring ----------
document.addEventListener('click', (e) => {
  const t = e.target.closest('button');
  if (!t) return;
  if (t.dataset.inc || t.dataset.dec) {
    const id = t.dataset.inc || t.dataset.dec;
    const q = Math.max(0, Math.min(99, (session.cart.get(id) || 0) + (t.dataset.inc ? 1 : -1)));
    session.cart.set(id, q);
    session.idempotencyKey = undefined; // a different cart is a different checkout
    renderCatalog();
  } else if (t.dataset.replay)
    guarded(() => http('POST', `/console/sim/deliveries/${encodeURIComponent(t.dataset.replay)}/replay`));
  else if (t.dataset.fault) guarded(() => fault(t.dataset.fault));
  else if (t.dataset.open) guarded(() => openOrder(t.dataset.open, false));
  else if (t.dataset.ship) openShipForm(t.dataset.ship);
  else if (t.dataset.recon) {
    reconSelected = t.dataset.recon;
    renderReconciliations();
  }
});
$('recon-run').onclick = () => guarded(runReconciliation);
$('recon-refresh').onclick = () => guarded(loadReconciliations);
$('recon-date').value = new Date(Date.now() + 8 * 3600_000 - 24 * 3600_000).toISOString().slice(0, 10);
$('new-user').onclick = () => guarded(newUserAndLogin);
$('buy').onclick = () => guarded(buy);
$('pay-ok').onclick = () => guarded(() => pay('success'));
$('pay-cancel').onclick = () => guarded(() => pay('cancel'));
$('pay-fail').onclick = () => guarded(() => pay('fail'));
$('refund').onclick = () => guarded(refund);
$('refund-complete').onclick = () => guarded(completeRefund);
$('confirm-receipt').onclick = () => guarded(confirmReceipt);
$('ship-form').onsubmit = (e) => {
  e.preventDefault();
  void shipOrder();
};
$('ship-cancel').onclick = () => {
  $('ship-form').hidden = true;
};
$('back-catalog').onclick = () => {
  renderCatalog();
  show('catalog', 'Catalog');
};
$('my-orders').onclick = () => guarded(() => listOrders(false));
$('orders-more').onclick = () => guarded(() => listOrders(true));
$('orders-back').onclick = () => {
  renderCatalog();
  show('catalog', 'Catalog');
};
connect();
guarded(loadReconciliations);
