// The reference broadcast server: Node's `ws` with its documented broadcast loop.
// Usage: node server.js PORT BOARD_JSON. The board file (rendered by the app's own templates)
// holds the snapshot sent on connect and, per match, the row pushed after each home goal.
// Any socket may score: {"action":"goal","match":ID,"side":"home"} bumps the home score and
// sends the new row to every open socket, and a one-line feedback fragment to the sender.
// GET / answers with a static copy of the app's board page as it was at the start (the board
// file's "page"), so the page prober has something to time; it is not re-rendered per request.
'use strict';

const fs = require('fs');
const http = require('http');
const { WebSocketServer, WebSocket } = require('ws');

const port = Number(process.argv[2]);
const board = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
const scores = new Map(Object.keys(board.rows).map((id) => [id, 0]));
const page = Buffer.from(board.page, 'utf8');

function rowAfter(id, home) {
  const row = board.rows[id];
  if (home < row.exact.length) return row.exact[home];
  return row.template.replace('{{HOME}}', String(home)).replace('{{VERSION}}', String(home + 1));
}

const server = http.createServer((request, response) => {
  if (request.url === '/healthz') {
    response.setHeader('Content-Type', 'application/json');
    response.end(JSON.stringify({ status: 'ok', sockets: wss.clients.size, worker: process.pid }));
  } else if (request.url === '/' && request.method === 'GET') {
    response.setHeader('Content-Type', 'text/html; charset=utf-8');
    response.setHeader('Content-Length', page.length);
    response.end(page);
  } else {
    response.statusCode = 404;
    response.end();
  }
});

const wss = new WebSocketServer({ server, path: '/ws', maxPayload: 65536 });

wss.on('connection', (socket) => {
  socket.send(board.snapshot);
  socket.on('message', (data) => {
    let command;
    try {
      command = JSON.parse(data);
    } catch {
      return;
    }
    if (command.action !== 'goal' || command.side !== 'home' || !scores.has(command.match)) return;
    const home = scores.get(command.match) + 1;
    scores.set(command.match, home);
    const fragment = rowAfter(command.match, home);
    for (const client of wss.clients) {
      if (client.readyState === WebSocket.OPEN) client.send(fragment);
    }
    socket.send('<hx-partial hx-target="#feedback" hx-swap="innerHTML"><span class="ok">Recorded goal</span></hx-partial>');
  });
  socket.on('error', () => {});
});

server.listen(port, '127.0.0.1', 511);
process.on('SIGTERM', () => process.exit(0));
