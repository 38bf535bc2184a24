// Parley guest app: a thin skin over the guest's own node, which the host runs.
// The socket speaks the headless protocol (docs/headless.md), one JSON object
// per message. Every name and message is shown with textContent (the el helper
// below), never parsed as markup; the CSP forbids inline script besides.

const $ = (id) => document.getElementById(id);

// el builds an element; string children become text nodes.
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

// --- identity kept in this browser -------------------------------------------
// The seed is the guest's key material: the host derives the guest's peer ID
// from it, so the same browser is the same peer across reloads and host restarts.
function seed() {
  let s = localStorage.getItem('parley.seed');
  if (!s) {
    const b = new Uint8Array(32);
    crypto.getRandomValues(b);
    s = btoa(String.fromCharCode(...b));
    localStorage.setItem('parley.seed', s);
  }
  return s;
}

const state = {
  ws: null, token: '', self: '', nextReq: 1, pending: new Map(),
  peers: new Map(), rooms: new Map(), conv: null, msgs: new Map(),
  call: null, pc: null, levelTimer: 0, transfers: new Map(), retry: 0, joined: false,
};
// Read by tests and the page-load figure: loaded, roster size, when the roster was
// first shown (ms since navigation), how often the socket joined (reconnects).
window.parley = { ready: false, roster: 0, rosterShownAt: 0, joins: 0 };

function status(text) { $('status').textContent = text; }

// --- the socket ---------------------------------------------------------------
function connect(name, passphrase) {
  const ws = new WebSocket(`wss://${location.host}/ws`);
  state.ws = ws;
  ws.onopen = () => ws.send(JSON.stringify({ cmd: 'join', name, seed: seed(), passphrase }));
  ws.onmessage = (m) => {
    let ev;
    try { ev = JSON.parse(m.data); } catch { return; }
    onEvent(ev);
  };
  ws.onclose = () => {
    if (state.ws !== ws) return;
    state.ws = null;
    for (const [, p] of state.pending) p.reject(new Error('disconnected'));
    state.pending.clear();
    if (state.joined) {
      // The host went away (restart, Wi-Fi): come back when it does.
      status('Connection to the host lost; reconnecting…');
      const wait = Math.min(5000, 500 * 2 ** state.retry++);
      setTimeout(() => connect(name, passphrase), wait);
    } else if (!$('status').textContent.startsWith('The host did not')) {
      // Never joined: unreachable, or too many attempts from here (HTTP 429).
      status('Could not join the host; try again in a minute.');
      $('join-button').disabled = false;
    }
  };
}

function send(cmd) {
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error('not connected'));
  const req = state.nextReq++;
  return new Promise((resolve, reject) => {
    state.pending.set(req, { resolve, reject });
    state.ws.send(JSON.stringify({ ...cmd, req }));
  });
}

function onEvent(ev) {
  if (ev.req !== undefined && state.pending.has(ev.req)) {
    const p = state.pending.get(ev.req);
    state.pending.delete(ev.req);
    if (ev.event === 'error') p.reject(new Error(ev.reason)); else p.resolve(ev);
    return;
  }
  const h = handlers[ev.event];
  if (h) h(ev);
}

const handlers = {
  waiting() { status('Waiting for the host to let you in…'); },
  refused(ev) {
    state.joined = false;
    status('The host did not let you in: ' + ev.reason);
    $('join-view').hidden = false; $('app-view').hidden = true;
    $('join-button').disabled = false;
  },
  joined(ev) {
    state.joined = true; state.retry = 0; state.token = ev.token; state.self = ev.id;
    window.parley.joins++;
    localStorage.setItem('parley.joined', '1');
    $('join-view').hidden = true; $('app-view').hidden = false;
    $('self-id').textContent = ev.id;
    status('Connected through ' + ev.host_name);
    refresh();
  },
  ready(ev) { $('self-name').textContent = ev.name; },
  error(ev) { status(ev.reason); },
  peer_up(ev) { putPeer(ev.peer); },
  peer_down(ev) { putPeer(ev.peer); },
  presence(ev) { putPeer(ev.peer); },
  message(ev) { incoming({ id: ev.id, from: ev.from, text: ev.text, time: ev.sent, state: 'received' }, { peer: ev.from }); },
  room_message(ev) { incoming({ id: ev.id, from: ev.from, text: ev.text, time: ev.sent, state: 'received' }, { room: ev.room }); },
  delivered(ev) { setState(ev.id, 'delivered'); },
  queued(ev) { setState(ev.id, 'queued'); },
  read(ev) { for (const id of ev.ids || []) setState(id, 'read'); },
  room_update(ev) { putRoom(ev.room); },
  call_incoming(ev) {
    state.call = { id: ev.call, peer: ev.from, incoming: true };
    $('call-status').textContent = 'Incoming call from ' + peerName(ev.from);
    $('answer-button').hidden = false; $('decline-button').hidden = false;
  },
  call_state(ev) {
    if (!state.call || state.call.id !== ev.call) state.call = { id: ev.call, peer: ev.peer };
    $('call-status').textContent = 'Call with ' + peerName(ev.peer) + ': ' + ev.state + (ev.reason ? ' (' + ev.reason + ')' : '');
    const ended = ev.state === 'ended';
    $('answer-button').hidden = ev.state !== 'incoming';
    $('decline-button').hidden = ev.state !== 'incoming';
    $('hangup-button').hidden = ended || ev.state === 'incoming';
    if (ended) { state.call = null; stopMedia(); }
  },
  file_offer(ev) { putTransfer({ id: ev.id, name: ev.name, size: ev.size, from: ev.from, out: false, state: 'offered' }); },
  file_progress(ev) { putTransfer({ id: ev.id, bytes: ev.bytes, size: ev.total, state: 'active' }); },
  file_done(ev) {
    putTransfer({ id: ev.id, state: 'done', bytes: state.transfers.get(ev.id)?.size });
    if (!ev.out) fetchFile(ev.id);
  },
  file_failed(ev) { putTransfer({ id: ev.id, state: 'failed: ' + ev.reason }); },
};

async function refresh() {
  const asked = performance.now();
  try {
    const [roster, rooms, self] = await Promise.all([send({ cmd: 'roster' }), send({ cmd: 'rooms' }), send({ cmd: 'self' })]);
    // Merged, not replaced: a peer_up that overtook this answer (the roster was
    // read before the peer was known, the event written before the answer)
    // must not be wiped out. The roster never drops anyone.
    for (const p of roster.peers || []) {
      const known = state.peers.get(p.id);
      if (!known || !(known.updated >= asked)) state.peers.set(p.id, { ...known, ...p });
    }
    renderRoster();
    for (const r of rooms.rooms || []) state.rooms.set(r.id, r);
    renderRooms();
    $('self-name').textContent = self.name;
    if (state.conv) openConv(state.conv);
  } catch (e) { status(e.message); }
}

// --- roster and rooms -----------------------------------------------------------
function peerName(id) { return state.peers.get(id)?.name || id.slice(0, 8); }

function putPeer(p) {
  if (!p || p.id === state.self) return;
  state.peers.set(p.id, { ...state.peers.get(p.id), ...p, updated: performance.now() });
  renderRoster();
  if (state.conv?.peer === p.id) showConvHeader();
}

function renderRoster() {
  const ul = $('roster');
  const peers = [...state.peers.values()].filter((p) => p.id !== state.self)
    .sort((a, b) => (b.online - a.online) || a.name.localeCompare(b.name));
  ul.replaceChildren(...peers.map((p) => el('li', { 'data-peer': p.id, class: p.online ? 'online' : 'offline' },
    el('button', { type: 'button', onclick: () => openConv({ peer: p.id }) }, p.name || p.id.slice(0, 8)),
    ' ', el('span', { class: 'presence' }, p.presence || 'offline'),
    p.guest ? el('span', { class: 'badge' }, ' guest') : '',
    p.unread ? el('span', { class: 'unread' }, ` (${p.unread} new)`) : '')));
  window.parley.roster = peers.length;
  if (!window.parley.rosterShownAt && peers.length) window.parley.rosterShownAt = performance.now();
}

function putRoom(r) { state.rooms.set(r.id, r); renderRooms(); }

function renderRooms() {
  $('rooms').replaceChildren(...[...state.rooms.values()].map((r) => el('li', { 'data-room': r.id },
    el('button', { type: 'button', onclick: () => openRoom(r) }, '#' + r.name),
    el('span', { class: 'members' }, ` ${(r.members || []).length} members`), r.joined ? '' : ' (not joined)')));
}

async function openRoom(r) {
  if (!r.joined) {
    try { const ok = await send({ cmd: 'join', room: r.id }); putRoom(ok.room); } catch (e) { status(e.message); return; }
  }
  openConv({ room: r.id });
}

// --- a conversation ---------------------------------------------------------------
function showConvHeader() {
  const c = state.conv;
  if (c.peer) {
    const p = state.peers.get(c.peer) || { name: c.peer.slice(0, 8) };
    $('conv-title').textContent = 'Chat with ' + (p.name || c.peer.slice(0, 8));
    $('conv-safety').hidden = !p.fingerprint;
    $('conv-safety-number').textContent = p.fingerprint || '';
    $('verified').checked = !!p.verified;
  } else {
    const r = state.rooms.get(c.room);
    $('conv-title').textContent = 'Room #' + (r ? r.name : c.room);
    $('conv-safety').hidden = true;
  }
  $('call-button').disabled = false; // a peer, or a room's members (a group call)
  for (const id of ['message', 'send-button', 'file-input']) $(id).disabled = false;
}

async function openConv(c) {
  state.conv = c;
  state.msgs.clear();
  $('messages').replaceChildren();
  setOlder('');
  if (c.peer && state.peers.has(c.peer)) { state.peers.get(c.peer).unread = 0; renderRoster(); }
  showConvHeader();
  try {
    const page = await send({ cmd: 'history', ...c, limit: 100 });
    if (!sameConv(state.conv, c)) return;
    for (const m of page.messages || []) addMessage(m);
    setOlder(page.next);
    markRead();
  } catch (e) { status(e.message); }
}

// setOlder keeps the cursor of the next older page ('' when there is none).
function setOlder(next) {
  state.older = next || '';
  $('older-button').hidden = !state.older;
}

async function loadOlder() {
  const c = state.conv;
  if (!c || !state.older) return;
  try {
    const page = await send({ cmd: 'history', ...c, before: state.older, limit: 100 });
    if (!sameConv(state.conv, c)) return;
    const first = $('messages').firstChild;
    for (const m of page.messages || []) {
      if (state.msgs.has(m.id)) continue;
      addMessage(m);
      $('messages').insertBefore(state.msgs.get(m.id).li, first); // older ones go on top
    }
    setOlder(page.next);
  } catch (e) { status(e.message); }
}

function sameConv(a, b) { return a && b && a.peer === b.peer && a.room === b.room; }

function addMessage(m) {
  if (state.msgs.has(m.id)) { setState(m.id, m.state); return; }
  const st = el('span', { class: 'state' }, m.state === 'received' ? '' : m.state);
  const li = el('li', { 'data-id': m.id, class: m.from === state.self ? 'mine' : 'theirs' },
    el('span', { class: 'author' }, m.from === state.self ? 'You' : peerName(m.from)), ': ',
    el('span', { class: 'text' }, m.text), ' ', st);
  state.msgs.set(m.id, { li, st, state: m.state, from: m.from });
  $('messages').append(li);
  li.scrollIntoView({ block: 'nearest' });
}

// Receipts only move forward: sent → delivered → read (node.StateAdvances).
const rank = { queued: 0, sent: 1, delivered: 2, read: 3 };
function setState(id, s) {
  const m = state.msgs.get(id);
  if (!m || m.from !== state.self || !(s in rank) || (rank[m.state] ?? -1) >= rank[s]) return;
  m.state = s; m.st.textContent = s;
}

function incoming(m, conv) {
  if (sameConv(state.conv, conv)) {
    addMessage(m);
    markRead();
  } else if (conv.peer && state.peers.has(conv.peer)) {
    const p = state.peers.get(conv.peer);
    p.unread = (p.unread || 0) + 1;
    renderRoster();
  }
}

// markRead tells the node the open conversation was read up to its newest
// message from others. Coalesced: a burst of arrivals sends one "read", not
// one each (the host rate-limits a page's commands).
function markRead() {
  if (state.readTimer) return;
  state.readTimer = setTimeout(() => {
    state.readTimer = 0;
    if (!state.conv || document.hidden) return;
    const last = [...state.msgs.entries()].filter(([, m]) => m.from !== state.self).pop();
    if (last) send({ cmd: 'read', ...state.conv, up_to: last[0] }).catch(() => {});
  }, 200);
}

async function sendMessage(text) {
  const c = state.conv;
  if (!c || !text) return;
  try {
    const r = c.peer ? await send({ cmd: 'send', to: c.peer, text }) : await send({ cmd: 'say', room: c.room, text });
    if (sameConv(state.conv, c)) addMessage({ id: r.id, from: state.self, text, state: 'sent' });
  } catch (e) { status('Not sent: ' + e.message); }
}

// --- calls: the browser's microphone and speaker, bridged by the host --------------
async function startMedia() {
  stopMedia();
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const pc = new RTCPeerConnection({ iceServers: [] });
  state.pc = pc;
  for (const t of stream.getTracks()) pc.addTrack(t, stream);
  pc.ontrack = (e) => { $('remote-audio').srcObject = e.streams[0] || new MediaStream([e.track]); };
  await pc.setLocalDescription(await pc.createOffer());
  // Non-trickle: the host's answerer wants every candidate in the offer.
  await new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    const t = setTimeout(resolve, 3000);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') { clearTimeout(t); resolve(); }
    });
  });
  const ans = await send({ cmd: 'media', sdp: pc.localDescription.sdp });
  await pc.setRemoteDescription({ type: 'answer', sdp: ans.sdp });
  watchLevel(pc);
}

function stopMedia() {
  clearInterval(state.levelTimer);
  if (state.pc) {
    for (const s of state.pc.getSenders()) s.track?.stop();
    state.pc.close();
    state.pc = null;
  }
}

// watchLevel shows the incoming audio's level from the receiver's statistics
// (the RMS over the last interval, from totalAudioEnergy), so it works with or
// without a loudspeaker.
function watchLevel(pc) {
  let lastE = 0, lastD = 0, max = 0;
  state.levelTimer = setInterval(async () => {
    if (pc.connectionState === 'closed') return;
    const stats = await pc.getStats();
    stats.forEach((r) => {
      if (r.type !== 'inbound-rtp' || r.kind !== 'audio') return;
      const e = r.totalAudioEnergy || 0, d = r.totalSamplesDuration || 0;
      let level = r.audioLevel || 0;
      if (d > lastD) level = Math.sqrt((e - lastE) / (d - lastD));
      lastE = e; lastD = d;
      max = Math.max(max, level);
      $('audio-level').value = level;
      $('audio-level').dataset.max = String(max);
      $('audio-level-text').textContent = level.toFixed(3);
    });
  }, 250);
}

// roomPeers are the members of a room to call with it: the online ones, at
// most five others (a call has at most 6 people).
function roomPeers(id) {
  const r = state.rooms.get(id);
  return (r?.members || []).filter((m) => m !== state.self && state.peers.get(m)?.online).slice(0, 5);
}

async function call() {
  const c = state.conv;
  if (!c) return;
  const peers = c.peer ? [c.peer] : roomPeers(c.room);
  if (!peers.length) { $('call-status').textContent = 'Nobody in this room is online.'; return; }
  try {
    $('call-status').textContent = 'Starting the microphone…';
    await startMedia();
    const r = await send({ cmd: 'call', peers });
    state.call = { id: r.call, peer: peers[0] };
    $('hangup-button').hidden = false;
  } catch (e) { stopMedia(); $('call-status').textContent = 'Call failed: ' + e.message; }
}

async function answer() {
  const c = state.call;
  if (!c) return;
  try {
    await startMedia();
    await send({ cmd: 'answer', call: c.id });
  } catch (e) { stopMedia(); $('call-status').textContent = 'Answer failed: ' + e.message; }
}

// --- files ----------------------------------------------------------------------
function putTransfer(t) {
  const cur = { ...state.transfers.get(t.id) };
  for (const [k, v] of Object.entries(t)) if (v !== undefined) cur[k] = v;
  state.transfers.set(t.id, cur);
  let li = document.querySelector(`#files li[data-id="${CSS.escape(t.id)}"]`);
  if (!li) { li = el('li', { 'data-id': t.id }); $('files').prepend(li); }
  const pct = cur.size ? Math.floor(100 * (cur.bytes || 0) / cur.size) : 0;
  const parts = [el('span', { class: 'name' }, cur.name || 'file'), ' ',
    el('progress', { max: '100', value: String(pct), 'aria-label': 'Progress of ' + (cur.name || 'file') }), ' ',
    el('span', { class: 'state' }, cur.state)];
  if (cur.state === 'offered' && !cur.out) {
    parts.push(' ', el('button', { type: 'button', 'aria-label': 'Accept ' + cur.name, onclick: () => send({ cmd: 'accept_file', id: t.id }).catch((e) => status(e.message)) }, 'Accept'),
      ' ', el('button', { type: 'button', 'aria-label': 'Decline ' + cur.name, onclick: () => send({ cmd: 'decline_file', id: t.id }).catch((e) => status(e.message)) }, 'Decline'));
  }
  if (cur.url) parts.push(' ', el('a', { href: cur.url, download: cur.name || 'file', class: 'download' }, 'Download ' + (cur.name || 'file')));
  li.replaceChildren(...parts);
}

async function fetchFile(id) {
  try {
    const r = await fetch('/api/file/' + encodeURIComponent(id), { headers: { Authorization: 'Bearer ' + state.token } });
    if (!r.ok) throw new Error(await r.text());
    putTransfer({ id, url: URL.createObjectURL(await r.blob()) });
  } catch (e) { putTransfer({ id, state: 'download failed: ' + e.message }); }
}

function upload(file) {
  const c = state.conv;
  if (!c || !file) return;
  const q = new URLSearchParams(c.peer ? { to: c.peer } : { room: c.room });
  q.set('name', file.name);
  const key = 'up-' + Math.random().toString(36).slice(2);
  putTransfer({ id: key, name: file.name, size: file.size, bytes: 0, out: true, state: 'uploading' });
  const x = new XMLHttpRequest();
  x.open('POST', '/api/upload?' + q);
  x.setRequestHeader('Authorization', 'Bearer ' + state.token);
  x.upload.onprogress = (e) => putTransfer({ id: key, bytes: e.loaded });
  x.onload = () => {
    if (x.status !== 200) { putTransfer({ id: key, state: 'upload failed: ' + x.responseText }); return; }
    document.querySelector(`#files li[data-id="${CSS.escape(key)}"]`)?.remove();
    state.transfers.delete(key);
    for (const id of JSON.parse(x.responseText).ids || []) putTransfer({ id, name: file.name, size: file.size, bytes: 0, out: true, state: 'offered' });
  };
  x.onerror = () => putTransfer({ id: key, state: 'upload failed' });
  x.send(file);
}

// --- start ----------------------------------------------------------------------
async function init() {
  try {
    const info = await (await fetch('/api/info')).json();
    $('host-name').textContent = info.name;
    $('host-fingerprint').textContent = info.fingerprint;
    $('passphrase-row').hidden = !info.team;
  } catch { status('Cannot reach the host.'); }
  const name = localStorage.getItem('parley.name') || '';
  $('join-name').value = name;
  $('join-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const n = $('join-name').value.trim();
    if (!n) return;
    localStorage.setItem('parley.name', n);
    $('join-button').disabled = true;
    connect(n, $('join-passphrase').value);
  });
  $('message-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const t = $('message').value;
    $('message').value = '';
    sendMessage(t);
  });
  $('room-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const n = $('room-name').value.trim();
    if (!n) return;
    try { const ok = await send({ cmd: 'join', room: n }); putRoom(ok.room); $('room-name').value = ''; openConv({ room: ok.room.id }); } catch (err) { status(err.message); }
  });
  $('call-button').addEventListener('click', call);
  $('older-button').addEventListener('click', loadOlder);
  $('presence').addEventListener('change', (e) => send({ cmd: 'presence', status: e.target.value }).catch((err) => status(err.message)));
  $('verified').addEventListener('change', async (e) => {
    const peer = state.conv?.peer;
    if (!peer) return;
    try { const r = await send({ cmd: 'verify', peer, on: e.target.checked }); putPeer(r.peer); } catch (err) { status(err.message); }
  });
  $('answer-button').addEventListener('click', answer);
  $('decline-button').addEventListener('click', () => state.call && send({ cmd: 'decline', call: state.call.id }).catch(() => {}));
  $('hangup-button').addEventListener('click', () => state.call && send({ cmd: 'hangup', call: state.call.id }).catch(() => {}));
  $('file-input').addEventListener('change', (e) => { for (const f of e.target.files) upload(f); e.target.value = ''; });
  document.addEventListener('visibilitychange', markRead);
  // A browser that joined before comes back by itself (the host knows it).
  if (name && localStorage.getItem('parley.joined')) {
    $('join-button').disabled = true;
    connect(name, '');
  }
  window.parley.ready = true;
}

init();
