/**
 * The web-chat page served at `/`: one self-contained HTML document (inline CSS and JS, no external
 * assets, no framework) that speaks the frame protocol of `frames.ts` over `ws(s)://<host>/ws`.
 *
 * Behaviour the end-to-end test relies on: `#messages` holds the conversation, `#input` and `#send`
 * send (Enter sends, Shift+Enter is a new line), every reply is an element with class `bot`, every
 * inline error one with class `error`, `#status` tells the connection state. The session id lives in
 * `localStorage` (`parley.session`), so a reload or a server restart continues the same conversation.
 * Messages typed while disconnected, or not yet answered when the socket dropped, are sent again with
 * the same id after reconnecting (the server answers each id once). Reconnects back off up to 15 s.
 *
 * The script contains no `${` and no backticks, so it can live in this template literal verbatim.
 */
export function renderWebChatPage(): string {
  return page;
}

const style = `
:root { color-scheme: light dark; --bg: #f6f7f9; --fg: #1d2230; --muted: #6b7280; --me: #2563eb; --bot: #ffffff;
  --line: #dde1e7; --err: #b91c1c; --err-bg: #fdecec; }
@media (prefers-color-scheme: dark) { :root { --bg: #14161b; --fg: #e7e9ee; --muted: #9aa1ad; --me: #3b6fe0;
  --bot: #20242c; --line: #2c313b; --err: #fca5a5; --err-bg: #3a1d1d; } }
* { box-sizing: border-box; }
html, body { height: 100%; margin: 0; }
body { display: flex; flex-direction: column; background: var(--bg); color: var(--fg);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "PingFang SC", sans-serif; }
header { display: flex; align-items: baseline; gap: 12px; padding: 12px 20px; border-bottom: 1px solid var(--line); }
header h1 { font-size: 17px; margin: 0; }
#status { color: var(--muted); font-size: 13px; }
#status[data-state="ready"]::before { content: "\\25CF "; color: #16a34a; }
main { flex: 1; overflow-y: auto; }
#messages { list-style: none; margin: 0 auto; padding: 16px 20px; max-width: 760px; display: flex;
  flex-direction: column; gap: 8px; }
.msg { max-width: 80%; padding: 8px 12px; border-radius: 14px; white-space: pre-wrap; overflow-wrap: anywhere; }
.user { align-self: flex-end; background: var(--me); color: #fff; border-bottom-right-radius: 4px; }
.user.pending { opacity: 0.6; }
.bot { align-self: flex-start; background: var(--bot); border: 1px solid var(--line); border-bottom-left-radius: 4px; }
.error { align-self: center; background: var(--err-bg); color: var(--err); font-size: 13px; border-radius: 8px; }
#typing { color: var(--muted); font-size: 13px; padding: 0 20px 6px; max-width: 760px; margin: 0 auto; width: 100%;
  visibility: hidden; }
#typing.on { visibility: visible; }
form { display: flex; gap: 8px; padding: 12px 20px 16px; border-top: 1px solid var(--line); max-width: 800px;
  width: 100%; margin: 0 auto; }
#input { flex: 1; resize: none; min-height: 42px; max-height: 160px; padding: 10px 12px; border-radius: 10px;
  border: 1px solid var(--line); background: var(--bot); color: var(--fg); font: inherit; }
#input:focus { outline: 2px solid var(--me); outline-offset: -1px; }
#send { padding: 0 18px; border: 0; border-radius: 10px; background: var(--me); color: #fff; font: inherit;
  cursor: pointer; }
#send:disabled { opacity: 0.5; cursor: default; }
`;

const script = `
(function () {
  'use strict';
  var messages = document.getElementById('messages');
  var input = document.getElementById('input');
  var statusEl = document.getElementById('status');
  var typingEl = document.getElementById('typing');
  var form = document.getElementById('composer');

  var KEY = 'parley.session';
  var session = loadSession();
  var socket = null;
  var ready = false;
  var limits = null;
  var attempt = 0;
  var reconnectTimer = null;
  // Messages sent but not answered yet, in order: id -> { frame, el }. Resent after a reconnect.
  var outbox = new Map();

  function randomId() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, function (b) { return b.toString(16).padStart(2, '0'); }).join('');
  }

  function loadSession() {
    try {
      var saved = localStorage.getItem(KEY);
      if (saved && /^[A-Za-z0-9_-]{16,128}$/.test(saved)) return saved;
      var fresh = randomId();
      localStorage.setItem(KEY, fresh);
      return fresh;
    } catch (e) {
      return randomId();
    }
  }

  function add(kind, text) {
    var li = document.createElement('li');
    li.className = 'msg ' + kind;
    li.setAttribute('data-testid', kind + '-message');
    li.textContent = text;
    messages.appendChild(li);
    li.scrollIntoView({ block: 'end' });
    return li;
  }

  function setStatus(state, text) {
    statusEl.dataset.state = state;
    statusEl.textContent = text;
  }

  function updateTyping() {
    typingEl.classList.toggle('on', ready && outbox.size > 0);
  }

  function codePoints(text) {
    var n = 0;
    for (var _ of text) n++;
    return n;
  }

  function transmit(frame) {
    if (ready && socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
  }

  function connect() {
    reconnectTimer = null;
    setStatus('connecting', 'Connecting\\u2026');
    var url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws';
    var ws = new WebSocket(url);
    socket = ws;
    ws.onopen = function () {
      var hello = { type: 'hello', session: session };
      if (navigator.language && /^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/.test(navigator.language)) {
        hello.locale = navigator.language;
      }
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      switch (frame.type) {
        case 'ready':
          ready = true;
          attempt = 0;
          limits = frame.limits;
          setStatus('ready', 'Connected');
          outbox.forEach(function (entry) { transmit(entry.frame); });
          updateTyping();
          break;
        case 'typing':
          updateTyping();
          break;
        case 'reply':
          add('bot', frame.text);
          break;
        case 'done':
          settle(frame.replyTo, false);
          break;
        case 'error':
          // Not taken because the server is stopping: keep it in the outbox, resent after reconnecting.
          if (frame.code === 'shutting_down') break;
          add('error', frame.message);
          if (frame.replyTo) settle(frame.replyTo, true);
          break;
      }
    };
    ws.onclose = function (event) {
      if (socket !== ws) return;
      ready = false;
      socket = null;
      updateTyping();
      if (event.code === 1009) {
        var max = limits ? limits.maxFrameBytes : 0;
        add('error', 'Your message was too large for the server' + (max ? ' (limit ' + max + ' bytes)' : '') +
          ' and was not delivered.');
        outbox.forEach(function (entry, id) {
          if (!max || new Blob([JSON.stringify(entry.frame)]).size > max) settle(id, true);
        });
      } else if (event.code === 1007) {
        add('error', 'The server could not read your message (it was not valid UTF-8).');
      }
      var delay = Math.min(15000, 500 * Math.pow(2, attempt)) * (0.5 + Math.random() / 2);
      attempt++;
      setStatus('offline', 'Disconnected \\u2014 reconnecting in ' + Math.ceil(delay / 1000) + ' s');
      reconnectTimer = setTimeout(connect, delay);
    };
  }

  function settle(id, failed) {
    var entry = outbox.get(id);
    if (!entry) return;
    outbox.delete(id);
    entry.el.classList.remove('pending');
    if (failed) entry.el.classList.add('failed');
    updateTyping();
  }

  function submit() {
    var text = input.value;
    if (text.trim() === '') return;
    if (limits && codePoints(text) > limits.maxTextChars) {
      add('error', 'That message is longer than ' + limits.maxTextChars + ' characters; shorten it or split it.');
      return;
    }
    var id = randomId();
    var el = add('user', text);
    el.classList.add('pending');
    outbox.set(id, { frame: { type: 'message', id: id, text: text }, el: el });
    input.value = '';
    transmit(outbox.get(id).frame);
    updateTyping();
  }

  form.addEventListener('submit', function (event) { event.preventDefault(); submit(); input.focus(); });
  input.addEventListener('keydown', function (event) {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  window.addEventListener('online', function () {
    if (reconnectTimer !== null) { clearTimeout(reconnectTimer); connect(); }
  });
  connect();
})();
`;

const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Parley</title>
<style>${style}</style>
</head>
<body>
<header><h1>Parley</h1><span id="status" data-testid="status" data-state="connecting" role="status">Connecting…</span></header>
<main><ol id="messages" data-testid="messages" aria-live="polite"></ol></main>
<div id="typing" data-testid="typing">Parley is typing…</div>
<form id="composer" autocomplete="off">
<textarea id="input" data-testid="input" rows="1" placeholder="Message Parley (Enter to send, Shift+Enter for a new line)" aria-label="Message" autofocus></textarea>
<button id="send" data-testid="send" type="submit">Send</button>
</form>
<script>${script}</script>
</body>
</html>
`;
