import { createReadStream } from 'node:fs';
import { connect, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { parseFlags } from './args.js';

export const help = `sealog send [--socket PATH] [--ack] [FILE...]

Sends newline-delimited JSON (one object per line) from each FILE in turn, or
from standard input when none is given, to the daemon's socket (default
./var/sealog.sock). Blank lines are skipped.

--ack   wait until the daemon says every line is durable on disk. Exits 0 only
        when every line was committed; otherwise exits 1 and names each
        rejected line (file, line number, code) and how many lines were not
        acknowledged (e.g. the daemon stopped). A line the daemon recognizes
        as a resend of an event it committed earlier (same event_id and
        content) counts as committed.
Exit 2: usage error or the socket could not be reached.`;

interface Input {
  name: string;
  firstWireLine: number; // the daemon's line number of this input's line 1
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, { socket: { type: 'string', short: 's' }, ack: { type: 'boolean' } }, true);
  if (values.help) {
    console.log(help);
    return 0;
  }
  const path = values.socket ?? './var/sealog.sock';
  const ack = values.ack ?? false;
  let sock: Socket;
  try {
    sock = await new Promise<Socket>((resolve, reject) => {
      const s = connect(path, () => resolve(s));
      s.once('error', reject);
    });
  } catch (err) {
    console.error(`sealog send: cannot connect to ${path}: ${(err as Error).message}`);
    return 2;
  }

  let committed = 0;
  let duplicates = 0;
  const rejections: string[] = [];
  const inputs: Input[] = [];
  const where = (wireLine: number) => {
    const i = inputs.findLast((x) => x.firstWireLine <= wireLine)!;
    return `${i.name}:${wireLine - i.firstWireLine + 1}`;
  };
  let ackText = '';
  sock.on('data', (d: Buffer) => {
    ackText += d.toString('utf8');
    let nl;
    while ((nl = ackText.indexOf('\n')) >= 0) {
      const a = JSON.parse(ackText.slice(0, nl)) as { ack: string; count?: number; line?: number; code?: string; reason?: string };
      ackText = ackText.slice(nl + 1);
      if (a.ack === 'commit') committed += a.count!;
      else if (a.ack === 'duplicate') duplicates++;
      else if (a.ack === 'rejected') rejections.push(`${where(a.line!)}: ${a.code} ${a.reason}`);
    }
  });
  const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
  sock.on('error', (err) => console.error(`sealog send: ${err.message}`));

  let wireLine = 0;
  let sent = 0;
  const write = (b: Buffer) => (sock.write(b) ? Promise.resolve() : new Promise<void>((r) => sock.once('drain', r)));
  if (ack) {
    await write(Buffer.from('{"$sealog":{"ack":true}}\n'));
    wireLine = 1;
  }
  const sources: [string, () => Readable][] = positionals.length ? positionals.map((f) => [f, () => createReadStream(f)]) : [['stdin', () => process.stdin]];
  try {
    for (const [name, open] of sources) {
      inputs.push({ name, firstWireLine: wireLine + 1 });
      let blank = true; // current line has only whitespace so far
      let last = 0x0a;
      for await (const chunk of open() as AsyncIterable<Buffer>) {
        for (let i = 0; i < chunk.length; i++) {
          const c = chunk[i]!;
          if (c === 0x0a) {
            wireLine++;
            if (!blank) sent++;
            blank = true;
          } else if (c !== 0x20 && c !== 0x09 && c !== 0x0d) blank = false;
        }
        last = chunk[chunk.length - 1] ?? last;
        await write(chunk);
      }
      if (last !== 0x0a) {
        // Each input ends its last line, so files never run together.
        await write(Buffer.from('\n'));
        wireLine++;
        if (!blank) sent++;
      }
    }
  } catch (err) {
    console.error(`sealog send: ${(err as Error).message}`);
    sock.destroy();
    return 2;
  }
  sock.end();
  await closed;
  if (!ack) return 0;
  for (const r of rejections) console.error(`rejected ${r}`);
  const missing = sent - committed - duplicates - rejections.length;
  if (missing > 0) console.error(`${missing} of ${sent} line(s) were not acknowledged`);
  const earlier = duplicates ? ` (${duplicates} of them committed earlier: same event_id)` : '';
  console.error(`sent ${sent}, committed ${committed + duplicates}${earlier}, rejected ${rejections.length}`);
  return rejections.length === 0 && missing === 0 ? 0 : 1;
}
