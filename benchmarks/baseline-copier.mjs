#!/usr/bin/env node
// The physical-limit baseline: the least a Node process must do to take NDJSON
// off a Unix socket and land it in a file. It finds line boundaries (so lines
// from concurrent clients never interleave mid-line) and appends whole lines;
// no parsing, hashing, compression or per-batch fsync. One fsync at shutdown
// makes the file durable, which is the point the benchmark times to.
//
// With --parse it also runs JSON.parse on every line (and counts the lines
// that fail): the cost of merely parsing, the first thing sealog does.
//
// usage: node baseline-copier.mjs [--parse] SOCKET_PATH OUTPUT_FILE
// Prints "ready" when listening; on SIGTERM stops accepting, lets connected
// clients finish, flushes, fsyncs, prints a JSON summary and exits 0.
import { createWriteStream, fstatSync, fsyncSync, openSync, closeSync, unlinkSync } from 'node:fs';
import { createServer } from 'node:net';

const argv = process.argv.slice(2);
const parse = argv[0] === '--parse';
const [socketPath, outFile] = parse ? argv.slice(1) : argv;
if (!socketPath || !outFile) {
  console.error('usage: baseline-copier.mjs [--parse] SOCKET_PATH OUTPUT_FILE');
  process.exit(2);
}

const out = createWriteStream(outFile, { flags: 'a', highWaterMark: 1024 * 1024 });
const conns = new Set();
let lines = 0;
let bytes = 0;
let parseErrors = 0;

function parseLines(buf) {
  let start = 0;
  for (let i = buf.indexOf(0x0a); i >= 0; start = i + 1, i = buf.indexOf(0x0a, start)) {
    try {
      JSON.parse(buf.toString('utf8', start, i));
    } catch {
      parseErrors++;
    }
  }
}
let stopping = false;

const server = createServer((sock) => {
  conns.add(sock);
  let carry = null; // bytes after the last newline, waiting for the rest of their line
  sock.on('data', (chunk) => {
    const data = carry ? Buffer.concat([carry, chunk]) : chunk;
    // Count every line boundary: the work a line-oriented copier cannot skip.
    let last = -1;
    for (let i = data.indexOf(0x0a); i >= 0; i = data.indexOf(0x0a, i + 1)) {
      lines++;
      last = i;
    }
    if (last < 0) {
      carry = data;
      return;
    }
    carry = last + 1 < data.length ? data.subarray(last + 1) : null;
    const whole = data.subarray(0, last + 1);
    bytes += whole.length;
    if (parse) parseLines(whole);
    // Backpressure: stop reading this client until the file catches up.
    if (!out.write(whole)) {
      sock.pause();
      out.once('drain', () => sock.resume());
    }
  });
  sock.on('end', () => {
    if (carry) {
      // A final line without newline is still a line; terminate it.
      if (parse) parseLines(Buffer.concat([carry, Buffer.from('\n')]));
      out.write(Buffer.concat([carry, Buffer.from('\n')]));
      lines++;
      bytes += carry.length + 1;
      carry = null;
    }
    conns.delete(sock);
    maybeExit();
  });
  sock.on('error', () => conns.delete(sock));
});

function maybeExit() {
  if (!stopping || conns.size > 0) return;
  out.end(() => {
    // The write stream has closed its fd; reopen to fsync the file's data.
    const fd = openSync(outFile, 'r');
    if (fstatSync(fd).isFile()) fsyncSync(fd); // not /dev/null
    closeSync(fd);
    process.stdout.write(JSON.stringify({ lines, bytes, parseErrors }) + '\n', () => process.exit(0));
  });
}

process.on('SIGTERM', () => {
  stopping = true;
  server.close();
  maybeExit();
});

try {
  unlinkSync(socketPath);
} catch {
  /* no stale socket */
}
server.listen(socketPath, () => process.stdout.write('ready\n'));
