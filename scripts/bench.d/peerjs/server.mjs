// The PeerJS anchor's signaling daemon: peerjs-server (the npm package `peer`) on 127.0.0.1,
// as a person with a VPS would run it, with discovery on so that a newcomer can list the room.
//
//   node server.mjs PORT [LOG]
//
// Prints "ready PORT" once it listens. With LOG, appends one line per signaling message it
// relays ("<epoch ms> <type> <src> <dst>") so that the bench's timeline can place the
// server's side of the exchange. It serves nothing but signaling; the page comes from Apache.

import fs from 'node:fs';
import { PeerServer } from 'peer';

const [portText, logPath] = process.argv.slice(2);
const port = Number(portText);
if (!Number.isInteger(port) || port <= 0) {
  console.error('usage: node server.mjs PORT [LOG]');
  process.exit(2);
}
const log = logPath ? fs.createWriteStream(logPath, { flags: 'a' }) : null;

const server = PeerServer({ host: '127.0.0.1', port, path: '/signal', allow_discovery: true }, () => {
  console.log(`ready ${port}`);
});
server.on('connection', (client) => log?.write(`${Date.now()} CONNECT ${client.getId()} -\n`));
server.on('message', (client, message) => {
  if (message.type !== 'HEARTBEAT') log?.write(`${Date.now()} ${message.type} ${message.src ?? client.getId()} ${message.dst ?? '-'}\n`);
});
server.on('disconnect', (client) => log?.write(`${Date.now()} DISCONNECT ${client.getId()} -\n`));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
