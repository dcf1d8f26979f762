// The E2B SDK against `cella up`: only E2B_API_URL, E2B_SANDBOX_URL and E2B_API_KEY differ
// from a program written for E2B. Run by e2e's CellaUpTest, which starts the server.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
// E2B_SDK_PACKAGE picks the SDK under test: `e2b` (2.51, creates with /v2/sandboxes) or
// `e2b-2-45` (2.45, creates with /sandboxes and connects with /sandboxes/{id}/connect).
const sdk = process.env.E2B_SDK_PACKAGE || 'e2b';
const { Sandbox } = await import(sdk);

for (const v of ['E2B_API_URL', 'E2B_SANDBOX_URL', 'E2B_API_KEY']) {
  assert.ok(process.env[v], `${v} must be set (CellaUpTest sets it)`);
}
const created = [];
after(async () => {
  for (const id of created) await Sandbox.kill(id).catch(() => {});
});

async function fresh(opts = {}) {
  const s = await Sandbox.create({ timeoutMs: 120_000, ...opts });
  created.push(s.sandboxId);
  return s;
}

test('create with metadata and envs, run commands, move files', { timeout: 60_000 }, async () => {
  const s = await fresh({ metadata: { suite: 'server', case: 'basic' }, envs: { GREETING: 'hello' } });
  assert.match(s.sandboxId, /^[a-z0-9]+$/);
  const r = await s.commands.run('echo "$GREETING from $(whoami) in $(pwd)"');
  assert.equal(r.stdout, 'hello from user in /home/user\n');
  await assert.rejects(s.commands.run('exit 3'), (e) => e.exitCode === 3);
  await s.files.write('/home/user/notes/a.txt', 'some text');
  assert.equal(await s.files.read('/home/user/notes/a.txt'), 'some text');
  assert.deepEqual((await s.files.list('/home/user/notes')).map((e) => e.name), ['a.txt']);
});

test('a terminal through the server: tty, resize, input', { timeout: 60_000 }, async () => {
  const s = await fresh();
  let out = '';
  const pty = await s.pty.create({ cols: 80, rows: 24, onData: (d) => (out += new TextDecoder().decode(d)) });
  await s.pty.sendInput(pty.pid, new TextEncoder().encode('tty; stty size\n'));
  const deadline = Date.now() + 10_000;
  while (!/24 80/.test(out)) { // the shell answers before the terminal changes size
    assert.ok(Date.now() < deadline, `no size in: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await s.pty.resize(pty.pid, { cols: 120, rows: 40 });
  await s.pty.sendInput(pty.pid, new TextEncoder().encode('stty size; exit\n'));
  const end = await pty.wait();
  assert.equal(end.exitCode, 0);
  assert.match(out, /\/dev\/pts\/\d+/);
  assert.match(out, /24 80/);
  assert.match(out, /40 120/);
});

test('getInfo has the sandbox as created, with real dates', { timeout: 60_000 }, async () => {
  const before = Date.now();
  const s = await fresh({ metadata: { suite: 'server', case: 'info' }, timeoutMs: 90_000 });
  const info = await s.getInfo();
  assert.equal(info.sandboxId, s.sandboxId);
  assert.equal(info.templateId, 'base');
  assert.equal(info.state, 'running');
  assert.deepEqual(info.metadata, { suite: 'server', case: 'info' });
  assert.ok(info.startedAt.getTime() >= before - 2000 && info.startedAt.getTime() <= Date.now());
  const ttl = info.endAt.getTime() - info.startedAt.getTime();
  assert.ok(ttl > 85_000 && ttl < 95_000, `endAt is the timeout after start (${ttl} ms)`);
});

test('list filters by metadata and pages', { timeout: 120_000 }, async () => {
  const tag = `t${Date.now()}`;
  const mine = [await fresh({ metadata: { tag } }), await fresh({ metadata: { tag } }), await fresh({ metadata: { tag } })];
  const paginator = Sandbox.list({ query: { metadata: { tag } }, limit: 2 });
  const first = await paginator.nextItems();
  assert.equal(first.length, 2);
  assert.ok(paginator.hasNext);
  const second = await paginator.nextItems();
  assert.equal(second.length, 1);
  assert.equal(paginator.hasNext, false);
  assert.deepEqual([...first, ...second].map((x) => x.sandboxId).sort(), mine.map((x) => x.sandboxId).sort());
});

test('kill: true, then false', { timeout: 60_000 }, async () => {
  const s = await fresh();
  assert.equal(await s.kill(), true);
  assert.equal(await Sandbox.kill(s.sandboxId), false);
  await assert.rejects(Sandbox.connect(s.sandboxId));
});

test('setTimeout: the sandbox is gone after it', { timeout: 60_000 }, async () => {
  const s = await fresh();
  await s.setTimeout(2_000);
  const deadline = Date.now() + 15_000;
  while (await s.isRunning()) {
    assert.ok(Date.now() < deadline, 'still running long after its timeout');
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.equal(await Sandbox.kill(s.sandboxId), false);
});

test('pause, then connect resumes it with files and processes intact', { timeout: 90_000 }, async () => {
  const s = await fresh();
  await s.files.write('/home/user/kept.txt', 'still here');
  await s.commands.run('nohup sleep 600 >/dev/null 2>&1 &');
  await s.pause();
  const info = await Sandbox.getInfo(s.sandboxId);
  assert.equal(info.state, 'paused');
  const back = await Sandbox.connect(s.sandboxId);
  assert.equal(await back.files.read('/home/user/kept.txt'), 'still here');
  const ps = await back.commands.run('pgrep -c -f "sleep 600"');
  assert.equal(ps.stdout.trim(), '1');
  assert.equal((await Sandbox.getInfo(s.sandboxId)).state, 'running');
});

test('getMetrics shows what the sandbox uses', { timeout: 60_000 }, async () => {
  const s = await fresh();
  await s.commands.run("timeout 2 sh -c 'while :; do :; done'; true");
  await new Promise((r) => setTimeout(r, 700));
  const metrics = await s.getMetrics();
  assert.ok(metrics.length >= 3, `${metrics.length} points`);
  for (const m of metrics) {
    assert.ok(m.timestamp instanceof Date && !isNaN(m.timestamp));
    assert.equal(m.cpuCount, 2);
    assert.ok(m.memTotal > 0 && m.diskTotal > 0);
  }
  assert.ok(Math.max(...metrics.map((m) => m.cpuUsedPct)) > 20, 'a busy loop shows');
});

/** GET through the sandbox proxy with a Host header, as wildcard DNS for the sandbox domain would send it. */
function getVia(hostName, path, headers = {}) {
  const proxy = new URL(process.env.E2B_SANDBOX_URL);
  return new Promise((resolve, reject) => {
    http.get({ host: proxy.hostname, port: proxy.port, path, headers: { Host: hostName, ...headers } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    }).on('error', reject);
  });
}

test('a web server inside is reached by getHost()', { timeout: 60_000 }, async () => {
  const s = await fresh();
  await s.files.write('/home/user/site/index.html', 'hello from inside');
  await s.commands.run('cd /home/user/site && python3 -m http.server 8080', { background: true, timeoutMs: 0 });
  const host = s.getHost(8080);
  assert.match(host, new RegExp(`^8080-${s.sandboxId}\\.`));
  const deadline = Date.now() + 15_000;
  let res;
  do {
    res = await getVia(host, '/index.html').catch((e) => ({ status: 0, body: String(e) }));
    if (res.status === 200) break;
    await new Promise((r) => setTimeout(r, 200));
  } while (Date.now() < deadline);
  assert.equal(res.status, 200);
  assert.equal(res.body, 'hello from inside');
});

test('a sandbox whose traffic is not public needs its traffic token on its ports', { timeout: 60_000 }, async () => {
  const s = await fresh({ network: { allowPublicTraffic: false } });
  assert.match(s.trafficAccessToken ?? '', /^[0-9a-f]{32}$/);
  assert.equal(await s.commands.run('echo envd works').then((r) => r.stdout), 'envd works\n'); // envd's port is guarded by its own token
  await s.files.write('/home/user/site/index.html', 'private');
  await s.commands.run('cd /home/user/site && python3 -m http.server 8080', { background: true, timeoutMs: 0 });
  const host = s.getHost(8080);
  const deadline = Date.now() + 15_000;
  let res;
  do {
    res = await getVia(host, '/index.html', { 'e2b-traffic-access-token': s.trafficAccessToken }).catch((e) => ({ status: 0, body: String(e) }));
    if (res.status === 200) break;
    await new Promise((r) => setTimeout(r, 200));
  } while (Date.now() < deadline);
  assert.equal(res.body, 'private');
  assert.equal((await getVia(host, '/index.html')).status, 403);
  assert.equal((await getVia(host, '/index.html', { 'e2b-traffic-access-token': 'wrong' })).status, 403);
});

test('signed download and upload URLs work through the server', { timeout: 60_000 }, async () => {
  const s = await fresh({ secure: true });
  await s.files.write('/home/user/shared.txt', 'signed content');
  const down = await s.downloadUrl('/home/user/shared.txt', { useSignatureExpiration: 60 });
  const r = await fetch(down);
  assert.equal(r.status, 200);
  assert.equal(await r.text(), 'signed content');
  // change the signature's first character to another one (replacing it by a fixed letter fails 1 time in 64)
  const tampered = down.replace(/signature=v1_(.)/, (_, c) => 'signature=v1_' + (c === 'A' ? 'B' : 'A'));
  assert.notEqual((await fetch(tampered)).status, 200);
  const up = await s.uploadUrl('/home/user/uploaded.txt');
  const form = new FormData();
  form.append('file', new Blob(['via signed url']), 'uploaded.txt');
  assert.equal((await fetch(up, { method: 'POST', body: form })).status, 200);
  assert.equal(await s.files.read('/home/user/uploaded.txt'), 'via signed url');
});

test('autoResume: traffic wakes a paused sandbox (SDK 2.51 lifecycle)', { timeout: 60_000, skip: sdk !== 'e2b' && 'lifecycle options are newer than this SDK' }, async () => {
  const s = await fresh({ lifecycle: { onTimeout: 'pause', autoResume: true } });
  await s.files.write('/home/user/awake.txt', 'yes');
  await s.pause();
  assert.equal((await Sandbox.getInfo(s.sandboxId)).state, 'paused');
  assert.equal(await s.files.read('/home/user/awake.txt'), 'yes'); // this very call wakes it
  assert.equal((await Sandbox.getInfo(s.sandboxId)).state, 'running');
});

test('a wrong API key is refused', { timeout: 30_000 }, async () => {
  await assert.rejects(Sandbox.create({ apiKey: 'e2b_' + '0'.repeat(40) }), /401|Invalid API key|auth/i);
});
