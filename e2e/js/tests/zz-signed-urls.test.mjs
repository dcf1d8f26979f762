// Access token, signed upload/download URLs. Runs last: it sets an access
// token on envd (POST /init) and clears it again in `after`.
//
// The SDK learns the envd access token from the control plane when it
// connects to a sandbox (POST /v2/sandboxes/{id}/connect answers with
// `envdAccessToken`). Debug mode skips that call, so this file serves that one
// endpoint from a tiny local stand-in for the E2B API and lets the SDK talk to
// envd through `sandboxUrl`, which is exactly the production code path.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthenticationError, Sandbox } from 'e2b';
import { ENVD_URL, createSandbox, waitForEnvd, scratchDir, randomId, sh } from './helpers.mjs';

const T = { timeout: 60_000 };
const TOKEN_FILE = join(tmpdir(), 'cella-e2e-envd-access-token');

async function init(body, headers = {}) {
  const res = await fetch(`${ENVD_URL}/init`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, headers: res.headers };
}

/** Clears the access token (Cella: the current token in X-Access-Token authorizes the reset). */
async function clearToken(token) {
  return init({ defaultUser: 'user' }, { 'X-Access-Token': token });
}

function assertAuthError(err) {
  assert.ok(err instanceof AuthenticationError, `expected AuthenticationError, got ${err?.name}: ${err?.message}`);
  return true;
}

function tamper(signature) {
  const last = signature.at(-1);
  return signature.slice(0, -1) + (last === 'A' ? 'B' : 'A');
}

function uploadForm(content, filename = 'upload.bin') {
  const form = new FormData();
  form.append('file', new Blob([content]), filename);
  return form;
}

describe('access token and signed URLs', () => {
  const token = randomId(16);
  let api;
  let apiCalls = [];
  let sandbox; // knows the token
  let anonymous; // debug-mode sandbox without a token

  before(async () => {
    await waitForEnvd();
    // A previous run that died before its `after` hook may have left a token.
    if (existsSync(TOKEN_FILE)) {
      await clearToken(readFileSync(TOKEN_FILE, 'utf8').trim()).catch(() => {});
      rmSync(TOKEN_FILE, { force: true });
    }
    writeFileSync(TOKEN_FILE, token);
    const res = await init({ accessToken: token, defaultUser: 'user' });
    assert.equal(res.status, 204, `POST /init failed: ${res.status} ${res.text}`);
    const reported = res.headers.get('x-envd-version');
    const envdVersion = reported && /^\d+\.\d+\.\d+$/.test(reported) ? reported : '0.6.13';

    api = http.createServer((req, rsp) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        apiCalls.push({ method: req.method, url: req.url, apiKey: req.headers['x-api-key'], body });
        const m = req.method === 'POST' && req.url.match(/^\/v2\/sandboxes\/([^/]+)\/connect$/);
        if (!m) {
          rsp.writeHead(404, { 'Content-Type': 'application/json' });
          rsp.end(JSON.stringify({ code: 404, message: 'not found' }));
          return;
        }
        rsp.writeHead(200, { 'Content-Type': 'application/json' });
        rsp.end(JSON.stringify({
          sandboxID: decodeURIComponent(m[1]),
          templateID: 'base',
          clientID: 'cella',
          envdVersion,
          envdAccessToken: token,
        }));
      });
    });
    await new Promise((resolve) => api.listen(0, '127.0.0.1', resolve));
    const { port } = api.address();

    sandbox = await Sandbox.connect('cella-e2e-sandbox', {
      debug: false,
      apiKey: `e2b_${randomId(20)}`,
      apiUrl: `http://127.0.0.1:${port}`,
      sandboxUrl: ENVD_URL,
    });
    anonymous = await createSandbox();
  });

  after(async () => {
    const res = await clearToken(token);
    if (res.status === 204) rmSync(TOKEN_FILE, { force: true });
    else console.error(`could not clear the envd access token: ${res.status} ${res.text}`);
    if (api) {
      api.closeAllConnections();
      await new Promise((resolve) => api.close(resolve));
    }
  });

  it('the SDK got the token from the control plane and uses it', T, async () => {
    assert.ok(apiCalls.some((c) => c.url === '/v2/sandboxes/cella-e2e-sandbox/connect'));
    const res = await sandbox.commands.run('whoami');
    assert.equal(res.stdout, 'user\n');
    assert.equal(await sandbox.files.exists('/home/user'), true);
  });

  it('RPCs without the token are rejected with 401 / AuthenticationError', T, async () => {
    await assert.rejects(anonymous.files.list('/home/user'), assertAuthError);
    await assert.rejects(anonymous.files.exists('/home/user'), assertAuthError);
    await assert.rejects(anonymous.commands.run('echo hi'), assertAuthError);
    await assert.rejects(anonymous.commands.list(), assertAuthError);
    await assert.rejects(anonymous.files.watchDir('/home/user', () => {}), assertAuthError);

    const stat = (headers) => fetch(`${ENVD_URL}/filesystem.Filesystem/Stat`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify({ path: '/home/user' }),
    });
    const none = await stat({});
    await none.text();
    assert.equal(none.status, 401);
    const wrong = await stat({ 'X-Access-Token': tamper(token) });
    await wrong.text();
    assert.equal(wrong.status, 401);
    const right = await stat({ 'X-Access-Token': token });
    assert.equal(right.status, 200);
    const body = await right.json();
    assert.equal(body.entry.name, 'user');
  });

  it('/health needs no token; /envs does', T, async () => {
    const health = await fetch(`${ENVD_URL}/health`);
    assert.equal(health.status, 204);
    const envs = await fetch(`${ENVD_URL}/envs`);
    await envs.text();
    assert.equal(envs.status, 401);
    const envsOk = await fetch(`${ENVD_URL}/envs`, { headers: { 'X-Access-Token': token } });
    assert.equal(envsOk.status, 200);
    assert.equal(typeof (await envsOk.json()), 'object');
  });

  it('/init with a different token is refused and the token stays', T, async () => {
    const res = await init({ accessToken: randomId(16) });
    assert.equal(res.status, 401);
    const res2 = await init({ defaultUser: 'user' });
    assert.equal(res2.status, 401, 'an /init without the token must not reset it');
    assert.equal((await sandbox.commands.run('echo still')).stdout, 'still\n');
    await assert.rejects(anonymous.commands.run('echo hi'), assertAuthError);
  });

  it('files.read/write work with the token; /files without token or signature is 401', T, async (t) => {
    const dir = await scratchDir(t, sandbox);
    const path = `${dir}/tok.txt`;
    await sandbox.files.write(path, 'with token');
    assert.equal(await sandbox.files.read(path), 'with token');
    await assert.rejects(anonymous.files.read(path), assertAuthError);
    await assert.rejects(anonymous.files.write(`${dir}/anon.txt`, 'x'), assertAuthError);
    assert.equal(await sandbox.files.exists(`${dir}/anon.txt`), false);

    const get = await fetch(`${ENVD_URL}/files?path=${encodeURIComponent(path)}`);
    await get.text();
    assert.equal(get.status, 401);
    const wrong = await fetch(`${ENVD_URL}/files?path=${encodeURIComponent(path)}`, {
      headers: { 'X-Access-Token': tamper(token) },
    });
    await wrong.text();
    assert.equal(wrong.status, 401);
    const right = await fetch(`${ENVD_URL}/files?path=${encodeURIComponent(path)}`, {
      headers: { 'X-Access-Token': token },
    });
    assert.equal(right.status, 200);
    assert.equal(await right.text(), 'with token');
  });

  it('uploadUrl(): a multipart POST to the signed URL writes the file', T, async (t) => {
    const dir = await scratchDir(t, sandbox);
    const path = `${dir}/uploaded.txt`;
    const url = new URL(await sandbox.uploadUrl(path));
    assert.equal(url.origin, ENVD_URL);
    assert.equal(url.pathname, '/files');
    assert.equal(url.searchParams.get('path'), path);
    assert.match(url.searchParams.get('signature'), /^v1_[A-Za-z0-9+/]+$/);
    assert.equal(url.searchParams.get('signature_expiration'), null);

    const res = await fetch(url, { method: 'POST', body: uploadForm('uploaded via signed url') });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    const entries = JSON.parse(text);
    assert.ok(Array.isArray(entries) && entries.length === 1, text);
    assert.equal(entries[0].path, path);
    assert.equal(entries[0].name, 'uploaded.txt');
    assert.equal(entries[0].type, 'file');
    assert.equal(await sandbox.files.read(path), 'uploaded via signed url');
    assert.equal((await sandbox.commands.run(`stat -c %U ${sh(path)}`)).stdout, 'user\n');
  });

  it('uploadUrl() with useSignatureExpiration works before it expires', T, async (t) => {
    const dir = await scratchDir(t, sandbox);
    const path = `${dir}/expiring.txt`;
    const url = new URL(await sandbox.uploadUrl(path, { useSignatureExpiration: 120 }));
    const exp = Number(url.searchParams.get('signature_expiration'));
    const now = Math.floor(Date.now() / 1000);
    assert.ok(exp >= now + 110 && exp <= now + 130, `odd expiration ${exp}`);
    const res = await fetch(url, { method: 'POST', body: uploadForm('expiring upload') });
    assert.equal(res.status, 200, await res.text());
    assert.equal(await sandbox.files.read(path), 'expiring upload');
  });

  it('uploadUrl() for user root writes a root-owned file', T, async (t) => {
    const dir = await scratchDir(t, sandbox);
    const path = `${dir}/root-upload.txt`;
    const url = new URL(await sandbox.uploadUrl(path, { user: 'root' }));
    assert.equal(url.searchParams.get('username'), 'root');
    // The signature covers the username.
    const forged = new URL(url);
    forged.searchParams.set('username', 'user');
    const bad = await fetch(forged, { method: 'POST', body: uploadForm('forged') });
    await bad.text();
    assert.equal(bad.status, 401);
    const res = await fetch(url, { method: 'POST', body: uploadForm('by root') });
    assert.equal(res.status, 200, await res.text());
    assert.equal((await sandbox.commands.run(`stat -c %U:%G ${sh(path)}`)).stdout, 'root:root\n');
  });

  it('downloadUrl(): a GET of the signed URL returns the file', T, async (t) => {
    const dir = await scratchDir(t, sandbox);
    const path = `${dir}/download.txt`;
    await sandbox.files.write(path, 'download me');
    const url = new URL(await sandbox.downloadUrl(path));
    assert.equal(url.pathname, '/files');
    assert.equal(url.searchParams.get('path'), path);
    assert.match(url.searchParams.get('signature'), /^v1_/);
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'download me');

    const exp = new URL(await sandbox.downloadUrl(path, { useSignatureExpiration: 60 }));
    assert.ok(exp.searchParams.get('signature_expiration'));
    const res2 = await fetch(exp);
    assert.equal(res2.status, 200);
    assert.equal(await res2.text(), 'download me');
  });

  it('a tampered signature is rejected with 401', T, async (t) => {
    const dir = await scratchDir(t, sandbox);
    const path = `${dir}/tamper.txt`;
    await sandbox.files.write(path, 'original');

    const down = new URL(await sandbox.downloadUrl(path));
    down.searchParams.set('signature', tamper(down.searchParams.get('signature')));
    const get = await fetch(down);
    await get.text();
    assert.equal(get.status, 401);

    const up = new URL(await sandbox.uploadUrl(path));
    up.searchParams.set('signature', tamper(up.searchParams.get('signature')));
    const post = await fetch(up, { method: 'POST', body: uploadForm('overwritten') });
    await post.text();
    assert.equal(post.status, 401);
    assert.equal(await sandbox.files.read(path), 'original');

    // Changing the expiration invalidates the signature too.
    const exp = new URL(await sandbox.downloadUrl(path, { useSignatureExpiration: 60 }));
    exp.searchParams.set('signature_expiration', String(Number(exp.searchParams.get('signature_expiration')) + 3600));
    const get2 = await fetch(exp);
    await get2.text();
    assert.equal(get2.status, 401);
  });

  it('an expired signature is rejected with 401', T, async (t) => {
    const dir = await scratchDir(t, sandbox);
    const path = `${dir}/expired.txt`;
    await sandbox.files.write(path, 'old');
    const down = await sandbox.downloadUrl(path, { useSignatureExpiration: -10 });
    const get = await fetch(down);
    await get.text();
    assert.equal(get.status, 401);
    const up = await sandbox.uploadUrl(path, { useSignatureExpiration: -10 });
    const post = await fetch(up, { method: 'POST', body: uploadForm('new') });
    await post.text();
    assert.equal(post.status, 401);
    assert.equal(await sandbox.files.read(path), 'old');
  });

  it('a signature is bound to its path and operation', T, async (t) => {
    const dir = await scratchDir(t, sandbox);
    await sandbox.files.write(`${dir}/a.txt`, 'A');
    await sandbox.files.write(`${dir}/b.txt`, 'B');

    const other = new URL(await sandbox.downloadUrl(`${dir}/a.txt`));
    other.searchParams.set('path', `${dir}/b.txt`);
    const r1 = await fetch(other);
    await r1.text();
    assert.equal(r1.status, 401, 'read signature for a.txt opened b.txt');

    const upAsGet = await fetch(await sandbox.uploadUrl(`${dir}/a.txt`));
    await upAsGet.text();
    assert.equal(upAsGet.status, 401, 'write signature allowed a read');

    const downAsPost = await fetch(await sandbox.downloadUrl(`${dir}/a.txt`), {
      method: 'POST',
      body: uploadForm('nope'),
    });
    await downAsPost.text();
    assert.equal(downAsPost.status, 401, 'read signature allowed a write');
    assert.equal(await sandbox.files.read(`${dir}/a.txt`), 'A');

    const noSig = new URL(await sandbox.downloadUrl(`${dir}/a.txt`));
    noSig.searchParams.delete('signature');
    const r2 = await fetch(noSig);
    await r2.text();
    assert.equal(r2.status, 401, 'missing signature accepted');
  });

  it('a signed download of a missing file is 404', T, async (t) => {
    const dir = await scratchDir(t, sandbox);
    const res = await fetch(await sandbox.downloadUrl(`${dir}/missing-${randomId()}`));
    await res.text();
    assert.equal(res.status, 404);
  });
});
