// The server's figures through the official E2B SDK, against `cella up` (started here):
// create + first commands.run, 20 concurrent creates, and GET /sandboxes/{id} per second.
// The baseline (`crun run /bin/true` on the same machine, this run) comes from NodeBench.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const { Sandbox } = await import('../e2e/js/node_modules/e2b/dist/index.mjs');
const RUNS = Number(process.env.CELLA_BENCH_RUNS || 20);
const BASE = process.env.CELLA_BENCH_CRUN_BASELINE || '?';
const data = mkdtempSync(join(tmpdir(), 'cella-bench-up-'));

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
  return { n: s.length, median: q(0.5), p99: q(0.99) };
}
const base = `   | baseline crun run /bin/true (NodeBench, this run): median ${BASE} ms`;
const row = (name, st, extra = '') =>
  console.log(`${name.padEnd(48)} median ${st.median.toFixed(1).padStart(8)} ms  p99 ${st.p99.toFixed(1).padStart(8)} ms  (n=${st.n})${extra}`);

async function up(rateLimit) {
  const server = spawn(process.env.JAVA, ['--enable-native-access=ALL-UNNAMED', '-jar', process.env.SERVER_JAR,
    '--data-dir', data, '--port', '3400', '--envd-runtime', process.env.CELLA_BENCH_RUNTIME,
    '--template', `base=${process.env.CELLA_BENCH_ROOTFS}`, '--rate-limit', String(rateLimit)], { stdio: ['ignore', 'pipe', 'ignore'] });
  const env = {};
  for await (const line of createInterface({ input: server.stdout })) {
    const m = /^export (E2B_[A-Z_]+)=(.*)$/.exec(line);
    if (m) env[m[1]] = m[2];
    if (Object.keys(env).length === 3) break;
  }
  Object.assign(process.env, env);
  return server;
}

// a high limit: what the server itself can do (seed 002's 200/s per team is a policy, measured after)
const server = await up(100000);
try {
  console.log(`Cella server benchmark through the E2B SDK: ${RUNS} runs; ${new Date().toISOString()}\n`);
  const first = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const s = await Sandbox.create();
    await s.commands.run('true');
    first.push(performance.now() - t);
    await s.kill();
  }
  row('SDK create + first commands.run("true")', stats(first), base);

  const t0 = performance.now();
  const results = await Promise.allSettled(Array.from({ length: 20 }, () => Sandbox.create()));
  const wall = (performance.now() - t0) / 1000;
  const ok = results.filter((r) => r.status === 'fulfilled').map((r) => r.value);
  console.log(`${'20 concurrent creates'.padEnd(48)} ${ok.length} ok, ${20 - ok.length} failed in ${wall.toFixed(2)} s: ${(ok.length / wall).toFixed(1)} creates/s${base}`);

  const target = ok[0];
  const url = `${process.env.E2B_API_URL}/sandboxes/${target.sandboxId}`;
  const headers = { 'X-API-KEY': process.env.E2B_API_KEY };
  const total = 2000, concurrency = 10;
  let done = 0, failed = 0;
  const t1 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (done < total) {
      done++;
      const r = await fetch(url, { headers });
      await r.arrayBuffer();
      if (r.status !== 200) failed++;
    }
  }));
  const rps = total / ((performance.now() - t1) / 1000);
  console.log(`${'GET /sandboxes/{id}, 10 concurrent'.padEnd(48)} ${rps.toFixed(0)} requests/s (${failed} not 200; per-team limit off)`);
  for (const s of ok) await s.kill();
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
}
rmSync(data, { recursive: true, force: true });
