// The operator console: plain JavaScript over the public API (no framework, no build step).
// Everything it shows comes from the same endpoints any client uses, with the API key kept in sessionStorage;
// live updates come from GET /api/v1/events (server-sent events) read with fetch, which, unlike EventSource,
// can send the x-api-key header.
import { renderChart } from './chart.js';
import { readEventStream } from './stream.js';

const KEY = 'agentdesk.apiKey';
const ORG = 'agentdesk.organization';
const MAX_EVENTS = 200;
const MAX_EXITS = 100;
const PRICE_POLL_MS = 1500;
const PRICE_POINTS = 120;

const state = {
  agents: new Map(),      // agentId -> agent view
  selected: null,         // agentId
  batches: new Map(),     // batchId -> latest batch event data
  prices: new Map(),      // symbol -> [{ t, p }]
  positions: [],
  lastEventId: null,
  stream: null,           // AbortController of the open stream
  pricePoll: null,
  refresh: new Map(),     // what -> pending timer
};

const $ = (id) => document.getElementById(id);

/** Builds an element; children are nodes or text (never parsed as HTML). */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') element.className = value;
    else if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

const short = (address) => (address && address.length > 12 ? `${address.slice(0, 6)}…${address.slice(-4)}` : address ?? '');
const usd = (value, digits = 2) => (value === null || value === undefined ? '—' : Number(value).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
const price = (value) => (value === null || value === undefined ? '—' : Number(value).toLocaleString('en-US', { maximumFractionDigits: 6 }));
const time = (iso) => new Date(iso).toLocaleTimeString('en-GB');
const signed = (value) => h('span', { class: value > 0 ? 'up' : value < 0 ? 'down' : '' }, `${value > 0 ? '+' : ''}${usd(value)}`);

// ---- API ---------------------------------------------------------------------------------------------------------

function headers(extra = {}) {
  const result = { 'x-api-key': sessionStorage.getItem(KEY) ?? '', ...extra };
  const organization = sessionStorage.getItem(ORG);
  if (organization) result['X-Organization'] = organization;
  return result;
}

class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail ?? `HTTP ${status}`);
    this.status = status;
    this.code = problem?.code;
  }
}

async function api(path, { method = 'GET', body } = {}) {
  const response = await fetch(path, {
    method,
    headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, json);
  return json;
}

// ---- sign-in -----------------------------------------------------------------------------------------------------

async function signIn(key, organization) {
  sessionStorage.setItem(KEY, key);
  if (organization) sessionStorage.setItem(ORG, organization);
  else sessionStorage.removeItem(ORG);
  try {
    await loadAgents();
  } catch (error) {
    signOut();
    const message = error.status === 401 ? 'That key is not accepted.' : error.status === 403 ? 'That key may not read agents (use an operator or admin key).' : error.message;
    const box = $('sign-in-error');
    box.textContent = message;
    box.hidden = false;
    return;
  }
  $('sign-in').hidden = true;
  $('app').hidden = false;
  $('session').hidden = false;
  $('organization').textContent = organization ? `organisation ${organization}` : '';
  startStream();
  startPrices();
  const first = state.agents.keys().next().value;
  if (first) await selectAgent(first);
}

function signOut() {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(ORG);
  state.stream?.abort();
  clearInterval(state.pricePoll);
  $('app').hidden = true;
  $('session').hidden = true;
  $('sign-in').hidden = false;
}

// ---- agents ------------------------------------------------------------------------------------------------------

async function loadAgents() {
  state.agents.clear();
  let cursor = null;
  for (let page = 0; page < 20; page++) {
    const list = await api(`/api/v1/agents?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    for (const agent of list.agents) state.agents.set(agent.agentId, agent);
    cursor = list.nextCursor;
    if (!cursor) break;
  }
  renderAgents();
}

function renderAgents() {
  const list = $('agent-list');
  list.replaceChildren();
  if (state.agents.size === 0) list.append(h('li', { class: 'muted' }, 'No agents in this organisation yet.'));
  for (const agent of state.agents.values()) {
    list.append(h('li', {},
      h('button', { type: 'button', 'data-agent-id': agent.agentId, 'aria-current': agent.agentId === state.selected ? 'true' : 'false', onclick: () => selectAgent(agent.agentId) },
        agent.name ?? agent.agentId,
        h('span', { class: `badge ${agent.paused ? 'paused' : 'active'}` }, agent.paused ? 'paused' : 'active'),
        h('small', {}, `${agent.agentType} · ${agent.subscriberCount} subscriber${agent.subscriberCount === 1 ? '' : 's'}`))));
  }
}

async function selectAgent(agentId) {
  state.selected = agentId;
  state.agents.set(agentId, await api(`/api/v1/agents/${agentId}`));
  renderAgents();
  renderHeader();
  $('exits').replaceChildren(h('li', { class: 'muted empty' }, 'No exit since you signed in.'));
  await Promise.all([loadPositions(), loadSubscribers(), loadFees()]);
}

function renderHeader() {
  const agent = state.agents.get(state.selected);
  const header = $('agent-header');
  header.replaceChildren();
  if (!agent) return;
  const toggle = h('button', {
    type: 'button', class: agent.paused ? 'resume' : 'danger', 'data-testid': 'pause-toggle',
    onclick: async () => {
      toggle.disabled = true;
      try {
        const updated = await api(`/api/v1/agents/${agent.agentId}/${agent.paused ? 'resume' : 'pause'}`, { method: 'POST' });
        state.agents.set(updated.agentId, updated);
        renderAgents();
        renderHeader();
      } catch (error) {
        toggle.disabled = false;
        alert(error.message);
      }
    },
  }, agent.paused ? 'Resume agent' : 'Pause agent');
  header.append(
    h('div', {},
      h('h2', { 'data-testid': 'agent-name' }, agent.name ?? agent.agentId,
        h('span', { class: `badge ${agent.paused ? 'paused' : 'active'}`, 'data-testid': 'agent-status' }, agent.paused ? 'paused' : 'active')),
      h('div', { class: 'muted mono' }, `${agent.agentId} · ${agent.agentType} · track ${agent.track} · ${agent.subscriberCount} subscribers`)),
    toggle);
}

// ---- positions, subscribers, fees --------------------------------------------------------------------------------

async function loadPositions() {
  if (!state.selected) return;
  state.positions = await api(`/api/v1/agents/${state.selected}/positions`);
  renderPositions();
}

function latestPrice(symbol, fallback) {
  const points = state.prices.get(symbol);
  return points?.length ? points[points.length - 1].p : fallback;
}

function exitPlan(position) {
  const plan = position.exitPlan ?? {};
  const parts = [];
  if (plan.stopLossPrice) parts.push(`SL ${price(plan.stopLossPrice)}`);
  if (plan.takeProfitPrice) parts.push(`TP ${price(plan.takeProfitPrice)}`);
  if (plan.trailingStopPercentage) parts.push(`trail ${plan.trailingStopPercentage}%${plan.trailingStopPrice ? ` @ ${price(plan.trailingStopPrice)}` : ''}`);
  for (const [index, rule] of (plan.ladder ?? []).entries()) {
    parts.push(`#${index} ${rule.triggerType === 'StopLoss' ? 'SL' : 'TP'} ${rule.triggerBps / 100}% → ${rule.exitBps / 100}%`);
  }
  return parts.length ? parts.join(' · ') : 'none';
}

function renderPositions() {
  const body = $('positions');
  body.replaceChildren();
  if (state.positions.length === 0) {
    body.append(h('tr', {}, h('td', { colspan: 8, class: 'muted' }, 'No open position.')));
    return;
  }
  for (const position of state.positions) {
    const entry = Number(position.purchase.priceUsd);
    const now = Number(latestPrice(position.tokenSymbol, position.current.priceUsd));
    const direction = position.side === 'SHORT' ? -1 : 1;
    const pnl = position.status === 'PENDING' ? 0 : direction * (now - entry) * Number(position.size);
    body.append(h('tr', { 'data-testid': 'position', 'data-position-id': position.id },
      h('td', { class: 'mono', title: position.walletAddress }, short(position.walletAddress)),
      h('td', {}, position.tokenSymbol),
      h('td', {}, position.status === 'PENDING' ? `${position.side} (order)` : position.side),
      h('td', { class: 'num' }, price(position.size)),
      h('td', { class: 'num' }, price(entry)),
      h('td', { class: 'num' }, price(now)),
      h('td', { class: 'num', 'data-testid': 'pnl' }, signed(pnl)),
      h('td', { class: 'ladder' }, exitPlan(position))));
  }
}

async function loadSubscribers() {
  if (!state.selected) return;
  const list = await api(`/api/v1/agents/${state.selected}/subscribers`);
  const shown = list.subscribers.slice(0, 50);
  const accounts = await Promise.all(shown.map((address) => api(`/api/v1/accounts/${address}`).catch(() => null)));
  const body = $('subscribers');
  body.replaceChildren();
  if (shown.length === 0) body.append(h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No subscriber.')));
  shown.forEach((address, i) => {
    const account = accounts[i];
    body.append(h('tr', { 'data-testid': 'subscriber' },
      h('td', { class: 'mono', title: address }, short(address)),
      h('td', { class: 'num' }, usd(account?.freeUsdc)),
      h('td', { class: 'num' }, usd(account?.lockedUsdc)),
      h('td', { class: 'num' }, account ? signed(account.realizedPnlUsdc) : '—')));
  });
  if (list.subscribers.length > shown.length) body.append(h('tr', {}, h('td', { colspan: 4, class: 'muted' }, `… and ${list.subscribers.length - shown.length} more`)));
}

async function loadFees() {
  const agent = state.agents.get(state.selected);
  const body = $('fees');
  body.replaceChildren();
  const addresses = [...new Set((agent?.fees ?? []).map((fee) => fee.feeAddress))];
  if (addresses.length === 0) body.append(h('tr', {}, h('td', { colspan: 3, class: 'muted' }, 'This agent charges no fees.')));
  for (const address of addresses) {
    try {
      const ledger = await api(`/api/v1/fees/${address}`);
      for (const [partner, amount] of Object.entries(ledger.byPartner)) {
        body.append(h('tr', { 'data-testid': 'fee' }, h('td', { class: 'mono', title: address }, short(address)), h('td', {}, partner), h('td', { class: 'num' }, usd(amount, 6))));
      }
    } catch (error) {
      if (error.code !== 'fee_ledger_not_found') throw error;
      body.append(h('tr', {}, h('td', { class: 'mono', title: address }, short(address)), h('td', { class: 'muted', colspan: 2 }, 'nothing credited yet')));
    }
  }
}

/** Collapses bursts of events (a batch fills thousands of positions) into one reload shortly after. */
function later(what, load, delay = 400) {
  if (state.refresh.has(what)) return;
  state.refresh.set(what, setTimeout(async () => {
    state.refresh.delete(what);
    try { await load(); } catch (error) { console.warn(`reloading ${what} failed`, error); }
  }, delay));
}

// ---- live events -------------------------------------------------------------------------------------------------

function setLive(status) {
  const live = $('live');
  live.dataset.state = status;
  live.textContent = status === 'open' ? 'live' : status === 'connecting' ? 'connecting…' : 'offline';
}

function startStream() {
  state.stream?.abort();
  const controller = new AbortController();
  state.stream = controller;
  (async () => {
    let wait = 1000;
    while (!controller.signal.aborted) {
      setLive('connecting');
      try {
        const extra = state.lastEventId === null ? {} : { 'Last-Event-ID': String(state.lastEventId) };
        const response = await fetch('/api/v1/events', { headers: headers(extra), signal: controller.signal });
        if (response.status === 401) { signOut(); return; }
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        await readEventStream(response.body, {
          onComment: () => { setLive('open'); wait = 1000; },
          onEvent: (message) => handle(JSON.parse(message.data)),
        });
      } catch (error) {
        if (controller.signal.aborted) return;
        console.warn('event stream interrupted', error);
      }
      setLive('connecting');
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(wait * 2, 10000);
    }
  })();
}

function handle(event) {
  state.lastEventId = event.id;
  logEvent(event);
  const mine = event.agentId && event.agentId === state.selected;
  switch (event.type) {
    case 'batch.started':
    case 'batch.progress':
    case 'batch.completed':
      showBatch(event);
      if (mine && event.type === 'batch.completed') {
        later('positions', loadPositions);
        later('subscribers', loadSubscribers);
        later('fees', loadFees);
        later('agents', refreshSelected);
      }
      break;
    case 'position.exited':
      if (mine) { showExit(event); later('positions', loadPositions); }
      break;
    case 'position.filled':
    case 'position.cancelled':
      if (mine) later('positions', loadPositions);
      break;
    case 'position.settled':
      if (mine) later('subscribers', loadSubscribers);
      break;
    case 'agent.paused':
    case 'agent.resumed': {
      const agent = state.agents.get(event.agentId);
      if (agent) {
        agent.paused = event.type === 'agent.paused';
        renderAgents();
        if (mine) renderHeader();
      }
      break;
    }
    default:
      break;
  }
}

async function refreshSelected() {
  if (!state.selected) return;
  state.agents.set(state.selected, await api(`/api/v1/agents/${state.selected}`));
  renderAgents();
  renderHeader();
}

function logEvent(event) {
  const list = $('events');
  list.prepend(h('li', { 'data-testid': 'event', 'data-type': event.type },
    h('span', {}, h('span', { class: 'type' }, event.type), ' ', h('span', { class: 'muted' }, [event.symbol, short(event.account)].filter(Boolean).join(' · '))),
    h('span', { class: 'muted mono' }, `#${event.id} ${time(event.at)}`)));
  while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
}

function showBatch(event) {
  const data = event.data;
  state.batches.set(data.batchId, data);
  const list = $('batches');
  list.querySelector('.empty')?.remove();
  const agent = state.agents.get(data.agentId);
  const share = data.subscribers > 0 ? Math.round((data.done / data.subscribers) * 100) : 100;
  // Set through the DOM, not a style attribute: the console's content security policy allows no inline styles.
  const bar = h('div', {});
  bar.style.width = `${share}%`;
  const item = h('li', { class: 'batch', 'data-testid': 'batch', 'data-batch-id': data.batchId, 'data-status': data.status },
    h('div', { class: 'line' },
      h('span', {}, `${data.kind === 'open' ? `Open ${data.side ?? ''}` : 'Close'} ${data.symbol} · ${agent?.name ?? short(data.agentId)}`),
      h('span', { class: 'muted', 'data-testid': 'batch-progress' }, `${data.done} / ${data.subscribers} · ${data.successful} ok · ${data.failed} failed${data.skipped ? ` · ${data.skipped} skipped` : ''} · ${data.status}`)),
    h('div', { class: 'progress' }, bar));
  const existing = list.querySelector(`[data-batch-id="${CSS.escape(data.batchId)}"]`);
  if (existing) existing.replaceWith(item);
  else list.prepend(item);
}

function showExit(event) {
  const data = event.data;
  const list = $('exits');
  list.querySelector('.empty')?.remove();
  const rule = data.ladderIndex === null || data.ladderIndex === undefined ? data.reason : `${data.reason} #${data.ladderIndex}`;
  list.prepend(h('li', { class: 'fresh', 'data-testid': 'exit', 'data-position-id': data.positionId, 'data-reason': data.reason },
    h('span', {}, h('strong', {}, rule), ' ', h('span', { class: 'muted mono' }, `${event.symbol} ${short(event.account)}`)),
    h('span', { class: 'num' }, `${price(data.sizeClosed)} @ ${price(data.exitPrice)} `, signed(data.realizedPnlUsd), h('span', { class: 'muted' }, ` ${time(event.at)}`))));
  while (list.children.length > MAX_EXITS) list.lastElementChild.remove();
}

// ---- prices ------------------------------------------------------------------------------------------------------

function startPrices() {
  clearInterval(state.pricePoll);
  const poll = async () => {
    try {
      const { prices } = await api('/prices');
      const now = Date.now();
      for (const quote of prices) {
        const points = state.prices.get(quote.symbol) ?? [];
        points.push({ t: now, p: Number(quote.priceUsd) });
        if (points.length > PRICE_POINTS) points.shift();
        state.prices.set(quote.symbol, points);
      }
      renderCharts();
      if (state.positions.length) renderPositions();
    } catch (error) {
      console.warn('price poll failed', error);
    }
  };
  poll();
  state.pricePoll = setInterval(poll, PRICE_POLL_MS);
}

function renderCharts() {
  const held = new Set(state.positions.map((position) => position.tokenSymbol));
  const symbols = [...state.prices.keys()].sort((a, b) => Number(held.has(b)) - Number(held.has(a)) || a.localeCompare(b)).slice(0, 6);
  $('charts').replaceChildren(...symbols.map((symbol) => renderChart(symbol, state.prices.get(symbol))));
}

// ---- start -------------------------------------------------------------------------------------------------------

$('sign-in-form').addEventListener('submit', (event) => {
  event.preventDefault();
  $('sign-in-error').hidden = true;
  signIn($('api-key').value.trim(), $('org-header').value.trim());
});
$('sign-out').addEventListener('click', signOut);

const saved = sessionStorage.getItem(KEY);
if (saved) signIn(saved, sessionStorage.getItem(ORG) ?? '');
