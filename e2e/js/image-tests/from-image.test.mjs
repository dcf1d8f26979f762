// The E2B SDK's Template.build() FROM an image in a registry on loopback (CellaUpTest
// starts Debian's docker-registry and pushes an image it made: two layers, a whiteout, an
// opaque directory, behind an image index) — then a sandbox of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Template, Sandbox } from 'e2b';

const image = process.env.CELLA_TEST_IMAGE;
assert.ok(image, 'CELLA_TEST_IMAGE must name the image (CellaUpTest sets it)');

test('fromImage: the image layers with their whiteouts, its variables, and a step on top', { timeout: 180_000 }, async () => {
  const logs = [];
  await Template.build(
    Template().fromImage(image).runCmd('cat /etc/greeting > /made.txt; echo $GREETING >> /made.txt'),
    'e2e-from-image',
    { onBuildLogs: (l) => logs.push(l.message) },
  );
  assert.ok(logs.some((l) => l.includes('pulled ' + image)), logs.join('\n'));
  const s = await Sandbox.create('e2e-from-image', { timeoutMs: 60_000 });
  try {
    const r = await s.commands.run('cat /made.txt; ls /opq; test -e /removed.txt && echo removed-is-back; whoami; echo $GREETING');
    assert.equal(r.stdout, 'hello layer 2\nfrom-image\nnew.txt\nroot\nfrom-image\n');
  } finally {
    await s.kill();
  }
});

test('a missing image fails the build', { timeout: 60_000 }, async () => {
  const missing = image.replace(/\/[^/]+:multi$/, '/nothing:v1');
  await assert.rejects(Template.build(Template().fromImage(missing), 'e2e-missing'), (e) => /pull failed/.test(e.message));
});

test('a registry on this host that the operator did not allow is refused: no pulls from loopback services', { timeout: 60_000 }, async () => {
  const apiPort = new URL(process.env.E2B_API_URL).port; // Cella's own API, the kind of service a forged pull would reach
  await assert.rejects(Template.build(Template().fromImage(`127.0.0.1:${apiPort}/x:y`), 'e2e-ssrf'),
    (e) => /loopback/.test(e.message) && /--registry-allow/.test(e.message), 'refused before any connection');
  await assert.rejects(Template.build(Template().fromImage('localhost:1/x:y'), 'e2e-ssrf-2'), (e) => /loopback/.test(e.message));
});

test('a private registry: the pull logs in with the credentials given, and fails without', { timeout: 120_000 }, async () => {
  const priv = process.env.CELLA_TEST_PRIVATE_IMAGE;
  assert.ok(priv, 'CELLA_TEST_PRIVATE_IMAGE must name the image (CellaUpTest sets it)');
  await assert.rejects(Template.build(Template().fromImage(priv), 'e2e-private-anon'), (e) => /pull failed/.test(e.message));
  const logs = [];
  await Template.build(Template().fromImage(priv, { username: 'puller', password: 'pull-secret' }).runCmd('cat /etc/greeting > /p.txt'), 'e2e-private',
    { onBuildLogs: (l) => logs.push(l.message) });
  const s = await Sandbox.create('e2e-private', { timeoutMs: 60_000 });
  try {
    assert.equal((await s.commands.run('cat /p.txt')).stdout, 'hello layer 2\n');
  } finally {
    await s.kill();
  }

  // another team sees nothing of the image this team pulled with its credentials, nor can it start it
  const digest = logs.map((l) => /pulled \S+ \((sha256:[0-9a-f]{64})\)/.exec(l)).find(Boolean)?.[1];
  assert.ok(digest, logs.join('\n'));
  const imageTemplate = 'img-' + digest.slice(7, 47);
  const other = await otherTeamKey();
  const listed = await (await fetch(`${process.env.E2B_API_URL}/templates`, { headers: { 'X-API-Key': other } })).json();
  assert.ok(Array.isArray(listed), JSON.stringify(listed));
  const names = listed.flatMap((t) => [t.templateID, ...(t.aliases || []), ...(t.names || [])]);
  assert.ok(!names.some((n) => n === imageTemplate || n.startsWith('img-') || n.startsWith('e2e-private')), names.join(', '));
  for (const t of [imageTemplate, 'e2e-private']) {
    await assert.rejects(Sandbox.create(t, { apiKey: other, timeoutMs: 30_000 }), (e) => /not found/i.test(e.message), t);
  }
});

/** A key of a new team of its own (signed up through the native API, as anyone can). */
async function otherTeamKey() {
  const api = process.env.E2B_API_URL;
  const email = `other-${Date.now()}-${Math.random().toString(16).slice(2)}@example.com`;
  const signup = await fetch(`${api}/v1/auth/signup`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password: 'correct horse', name: 'other' }) });
  assert.equal(signup.status, 201, await signup.clone().text());
  const { token } = await signup.json();
  const key = await fetch(`${api}/v1/api-keys`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ name: 'other' }) });
  assert.equal(key.status, 201, await key.clone().text());
  return (await key.json()).key;
}
