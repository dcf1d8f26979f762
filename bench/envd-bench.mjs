// envd's numbers: start-to-/health, idle RSS, and commands.run("true") through the
// official E2B SDK, each next to a plain fork/exec of /bin/true measured in this run.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { Sandbox } from '../e2e/js/node_modules/e2b/dist/index.mjs';

const RUNS = Number(process.env.CELLA_BENCH_RUNS || 20);
const ROOTFS = process.env.CELLA_BENCH_ROOTFS;
const RUNTIME = process.env.CELLA_BENCH_RUNTIME;
const SANDBOX = process.env.CELLA_BENCH_SANDBOX;
const PORT = 49983; // the SDK's debug mode talks to this port

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
  return { n: s.length, min: s[0], median: q(0.5), p99: q(0.99), max: s[s.length - 1] };
}
const f = (x, unit) => `${x.toFixed(unit === 'MiB' ? 1 : 2)} ${unit}`;
function row(name, st, unit, baseName, base) {
  const b = base ? `   | baseline ${baseName}: median ${f(base.median, unit)}, p99 ${f(base.p99, unit)}` : '';
  console.log(`${name.padEnd(44)} median ${f(st.median, unit).padStart(10)}  p99 ${f(st.p99, unit).padStart(10)}  (n=${st.n})${b}`);
}

function healthOnce() {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port: PORT, path: '/health', agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 204);
    });
    req.on('error', () => resolve(false));
    req.setTimeout(500, () => { req.destroy(); resolve(false); });
  });
}

async function startEnvd() {
  const t0 = performance.now();
  const child = spawn(SANDBOX, ['--root', ROOTFS, '--runtime', RUNTIME, '--overlay', '--port', String(PORT)], { stdio: 'ignore' });
  while (!(await healthOnce())) {
    if (child.exitCode !== null) throw new Error('envd-sandbox exited');
    if (performance.now() - t0 > 30000) throw new Error('envd did not start');
    await new Promise((r) => setTimeout(r, 2));
  }
  return { child, ms: performance.now() - t0 };
}

async function stopEnvd(child) {
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
  while (await healthOnce()) await new Promise((r) => setTimeout(r, 10));
}

function envdPid() {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (cmd.includes('dev.cella.envd.Envd') && cmd.includes(`--port\0${PORT}`)) return Number(d);
    } catch { /* gone */ }
  }
  throw new Error('envd process not found');
}
const statusKiB = (pid, field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
const rssMiB = (pid) => statusKiB(pid, 'VmRSS') / 1024;
// The runtime's files (JRE, AOT cache) are the same pages for every sandbox on a host;
// what one more idle envd really costs is its private (anonymous) memory.
const anonMiB = (pid) => statusKiB(pid, 'RssAnon') / 1024;

function forkExecTrue(n) {
  const xs = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    spawnSync('/bin/true');
    xs.push(performance.now() - t);
  }
  return stats(xs);
}

if (await healthOnce()) {
  console.error(`port ${PORT} is in use (stop ./cella dev envd first)`);
  process.exit(1);
}
console.log(`Cella envd benchmark: ${RUNS} runs; ${execFileSync('nproc').toString().trim()} cores; ${new Date().toISOString()}`);
const forkExec = forkExecTrue(Math.max(200, RUNS * 10));

// 1. start to /health, and RSS when idle
const starts = [], idle = [], idleAnon = [], busy = [];
let lastRun = [];
for (let i = 0; i < RUNS; i++) {
  const { child, ms } = await startEnvd();
  starts.push(ms);
  await new Promise((r) => setTimeout(r, 2000));
  idle.push(rssMiB(envdPid()));
  idleAnon.push(anonMiB(envdPid()));
  if (i === RUNS - 1) {
    // 2. commands.run("true") through the SDK, on the last envd
    const sbx = await Sandbox.create({ debug: true });
    for (let w = 0; w < 20; w++) await sbx.commands.run('true'); // warm-up
    for (let k = 0; k < Math.max(100, RUNS * 5); k++) {
      const t = performance.now();
      await sbx.commands.run('true');
      lastRun.push(performance.now() - t);
    }
    busy.push(rssMiB(envdPid()));
  }
  await stopEnvd(child);
}
const sandboxOnly = [];
for (let i = 0; i < RUNS; i++) {
  // the same namespaces and mounts with /bin/true instead of envd: what the harness costs
  const t = performance.now();
  spawnSync('unshare', ['--mount', '--pid', '--uts', '--ipc', '--fork', '--propagation', 'private', 'chroot', ROOTFS, '/bin/true']);
  sandboxOnly.push(performance.now() - t);
}

console.log();
row('envd start to /health (in its sandbox)', stats(starts), 'ms', 'unshare+chroot /bin/true', stats(sandboxOnly));
row('envd idle RSS, 2 s after start', stats(idle), 'MiB');
row('  of which private (RssAnon): the per-sandbox cost', stats(idleAnon), 'MiB');
row('envd RSS after the command runs below', stats(busy), 'MiB');
row('SDK commands.run("true") round trip', stats(lastRun), 'ms', 'fork/exec /bin/true', forkExec);
console.log();
console.log('commands.run runs `/bin/bash -l -c true` as the SDK does; bash -l alone costs:');
const bashL = [];
for (let i = 0; i < 50; i++) {
  const t = performance.now();
  spawnSync('chroot', [ROOTFS, '/bin/bash', '-l', '-c', 'true']);
  bashL.push(performance.now() - t);
}
row('chroot ROOTFS bash -l -c true (no envd)', stats(bashL), 'ms', 'fork/exec /bin/true', forkExec);
