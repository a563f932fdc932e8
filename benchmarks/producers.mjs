// Producers where they live (issue: Python client, pino transport), side by side in one run:
// - Python: producer-thread CPU per event of sealog.Client.send() vs json.dumps of the same
//   events, paced at 10k events/s (time.thread_time on the producer thread). Goal <= 1.5x.
// - pino: a pino app's throughput through sealog/pino (every line committed by sealog) vs
//   pino's own file transport (pino/file), same events, same process shape. Goal >= 0.8x.
// Runs are interleaved; the median is reported. node benchmarks/producers.mjs [--quick]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeEvents } from './lib/events.mjs';
import { parseOptions, COMMON_USAGE } from './lib/options.mjs';
import { isMain, machine, machineLine } from './lib/machine.mjs';
import { makeTempDir, ROOT, runCommand, runMain, startSealog, stopProcess } from './lib/proc.mjs';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function producers({ events, runs, quick }) {
  const pyEvents = quick ? 5_000 : 30_000;
  const pinoEvents = quick ? 20_000 : Math.min(events, 200_000);
  const dir = makeTempDir();
  const file = join(dir, 'events.jsonl');
  writeFileSync(file, makeEvents(pyEvents, 3).join('\n') + '\n');
  const py = [];
  const pinoFile = [];
  const pinoSealog = [];
  for (let r = 0; r < runs; r++) {
    const d = await startSealog();
    const out = await runCommand(process.env.PYTHON ?? 'python3', [join(ROOT, 'benchmarks/python-producer.py'), d.socketPath, file, '10000']);
    const res = JSON.parse(out.stdout.trim().split('\n').pop());
    if (!res.ok || res.committed !== pyEvents) throw new Error(`python producer: not every event committed: ${out.stdout}`);
    py.push(res);
    const app = (target, dest) =>
      runCommand(process.execPath, [join(ROOT, 'benchmarks/pino-app.mjs'), target, dest, String(pinoEvents)]).then((o) => JSON.parse(o.stdout.trim()));
    pinoFile.push(await app('pino/file', join(dir, `pino-${r}.log`)));
    pinoSealog.push(await app('sealog/pino', d.socketPath));
    await stopProcess(d.child);
  }
  const result = {
    python: {
      events: pyEvents,
      rate: 10_000,
      dumps_us: median(py.map((x) => x.dumps_us)),
      send_us: median(py.map((x) => x.send_us)),
      ratio: median(py.map((x) => x.ratio)),
      goal: '<= 1.5',
    },
    pino: {
      events: pinoEvents,
      file_events_per_s: Math.round(pinoEvents / (median(pinoFile.map((x) => x.total_ms)) / 1000)),
      sealog_events_per_s: Math.round(pinoEvents / (median(pinoSealog.map((x) => x.total_ms)) / 1000)),
      file_loop_ms: median(pinoFile.map((x) => x.loop_ms)),
      sealog_loop_ms: median(pinoSealog.map((x) => x.loop_ms)),
      goal: '>= 0.8',
    },
  };
  result.pino.ratio = +(result.pino.sealog_events_per_s / result.pino.file_events_per_s).toFixed(2);
  return result;
}

if (isMain(import.meta.url)) {
  runMain(async () => {
    const o = parseOptions(process.argv.slice(2));
    if (o.help) {
      console.log(`node benchmarks/producers.mjs [options]\n${COMMON_USAGE}`);
      return 0;
    }
    console.log(machineLine(machine()));
    const r = await producers(o);
    console.log(`Python client, paced at ${r.python.rate}/s, ${r.python.events} events, producer-thread CPU per event (median of ${o.runs}):`);
    console.log(`  json.dumps ${r.python.dumps_us} us   Client.send ${r.python.send_us} us   ratio ${r.python.ratio} (goal ${r.python.goal})`);
    console.log(`pino app, ${r.pino.events} events, until the transport finished (sealog: every line committed):`);
    console.log(`  pino/file ${r.pino.file_events_per_s}/s   sealog/pino ${r.pino.sealog_events_per_s}/s   ratio ${r.pino.ratio} (goal ${r.pino.goal})`);
    console.log(`  logging loop alone: pino/file ${r.pino.file_loop_ms.toFixed(0)} ms, sealog/pino ${r.pino.sealog_loop_ms.toFixed(0)} ms`);
    console.log(JSON.stringify(r));
    return 0;
  });
}
