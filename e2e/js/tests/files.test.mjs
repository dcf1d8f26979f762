// Filesystem: read/write (text, binary, multi, large, gzip), list, stat, mkdir,
// rename, remove, symlinks, ownership, metadata, errors.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  FileNotFoundError,
  NotFoundError,
  InvalidArgumentError,
  AuthenticationError,
} from 'e2b';
import { createSandbox, scratchDir, randomId, sh, HOME, ENVD_URL } from './helpers.mjs';

const T = { timeout: 60_000 };

function sha256(data) {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * `size` bytes of 32-byte records `<salt><index>\n`: every offset holds
 * distinct content (so lost, duplicated or shifted chunks change the hash),
 * yet it compresses well (a read with `gzip: true` stays cheap; a plain read,
 * whose fetch offers gzip by default, gets it as stored).
 */
function recordData(size) {
  const data = Buffer.alloc(size);
  const salt = randomBytes(8).toString('hex');
  for (let off = 0, i = 0; off < size; off += 32, i++) {
    data.write(`${salt}${i.toString(16).padStart(15, '0')}\n`, off, 'latin1');
  }
  return data;
}

function assertFileNotFound(err) {
  assert.ok(err instanceof FileNotFoundError, `expected FileNotFoundError, got ${err?.name}: ${err?.message}`);
  assert.ok(err instanceof NotFoundError);
  return true;
}

describe('files', () => {
  let sandbox;
  before(async () => {
    sandbox = await createSandbox();
  });

  const run = async (cmd, opts) => (await sandbox.commands.run(cmd, opts)).stdout;

  describe('write and read', () => {
    it('writes and reads text', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      const path = `${dir}/hello.txt`;
      const info = await sandbox.files.write(path, 'hello world\n');
      assert.equal(info.path, path);
      assert.equal(info.name, 'hello.txt');
      assert.equal(info.type, 'file');
      assert.equal(await sandbox.files.read(path), 'hello world\n');
      assert.equal(await run(`cat ${sh(path)}`), 'hello world\n');
    });

    it('writes and reads multi-byte UTF-8 text', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      const text = 'héllo ✓ 😀 日本語\n';
      await sandbox.files.write(`${dir}/u.txt`, text);
      assert.equal(await sandbox.files.read(`${dir}/u.txt`), text);
      assert.equal(await run(`wc -c < ${sh(dir + '/u.txt')}`), `${Buffer.byteLength(text)}\n`);
    });

    it('overwrites an existing file (truncating it)', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      const path = `${dir}/o.txt`;
      await sandbox.files.write(path, 'a much longer first version');
      await sandbox.files.write(path, 'short');
      assert.equal(await sandbox.files.read(path), 'short');
    });

    it('overwriting writes in place: mode, owner and hard links are kept', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      const path = `${dir}/inplace.txt`;
      await run(`cd ${sh(dir)} && echo old > inplace.txt && chmod 600 inplace.txt && ln inplace.txt hardlink.txt`);
      const inode = await run(`stat -c %i ${sh(path)}`);
      await sandbox.files.write(path, 'new content');
      assert.equal(await run(`stat -c '%A %U %h' ${sh(path)}`), '-rw------- user 2\n');
      assert.equal(await run(`stat -c %i ${sh(path)}`), inode, 'the file was replaced, not overwritten');
      assert.equal(await run(`cat ${sh(dir + '/hardlink.txt')}`), 'new content');
    });

    it('writes and reads an empty file', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      const path = `${dir}/empty`;
      await sandbox.files.write(path, '');
      assert.equal(await sandbox.files.read(path), '');
      assert.equal((await sandbox.files.read(path, { format: 'bytes' })).length, 0);
      assert.equal((await sandbox.files.getInfo(path)).size, 0);
    });

    it('writes and reads binary data with all 256 byte values', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      const path = `${dir}/all.bin`;
      const bytes = new Uint8Array(512);
      for (let i = 0; i < bytes.length; i++) bytes[i] = i % 256;
      await sandbox.files.write(path, bytes.buffer);
      const back = await sandbox.files.read(path, { format: 'bytes' });
      assert.ok(back instanceof Uint8Array);
      assert.deepEqual(Buffer.from(back), Buffer.from(bytes));
      assert.equal(await run(`sha256sum < ${sh(path)} | cut -d' ' -f1`), `${sha256(bytes)}\n`);
      const blob = await sandbox.files.read(path, { format: 'blob' });
      assert.deepEqual(Buffer.from(await blob.arrayBuffer()), Buffer.from(bytes));
    });

    it('reads a file written by a command as a stream', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      const path = `${dir}/seq.txt`;
      await run(`seq 1 100000 > ${sh(path)}`);
      const stream = await sandbox.files.read(path, { format: 'stream' });
      const chunks = [];
      for await (const c of stream) chunks.push(Buffer.from(c));
      const text = Buffer.concat(chunks).toString();
      const expected = Array.from({ length: 100000 }, (_, i) => `${i + 1}\n`).join('');
      assert.equal(text, expected);
    });

    it('writes several files at once and creates missing parent directories', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      const files = [
        { path: `${dir}/one.txt`, data: 'one' },
        { path: `${dir}/two.txt`, data: 'two' },
        { path: `${dir}/nested/deeper/three.txt`, data: 'three' },
      ];
      const infos = await sandbox.files.write(files);
      assert.ok(Array.isArray(infos));
      assert.equal(infos.length, 3);
      assert.deepEqual(infos.map((i) => i.path).sort(), files.map((f) => f.path).sort());
      for (const i of infos) assert.equal(i.type, 'file');
      assert.deepEqual(infos.map((i) => i.name).sort(), ['one.txt', 'three.txt', 'two.txt']);
      for (const f of files) assert.equal(await sandbox.files.read(f.path), f.data);
      assert.equal(await run(`stat -c %U ${sh(dir + '/nested')} ${sh(dir + '/nested/deeper')}`), 'user\nuser\n');
    });

    it('writeFiles() with a single entry still returns an array', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      const infos = await sandbox.files.writeFiles([{ path: `${dir}/single.txt`, data: 'x' }]);
      assert.ok(Array.isArray(infos));
      assert.equal(infos.length, 1);
      assert.equal(infos[0].path, `${dir}/single.txt`);
    });

    it('handles names with spaces, unicode and URL-special characters', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      const names = ['sp ace.txt', 'ünï😀.txt', 'a#b?c&d=e%20f+g.txt'];
      await sandbox.files.write(names.map((n) => ({ path: `${dir}/${n}`, data: `data:${n}` })));
      for (const n of names) {
        assert.equal(await sandbox.files.read(`${dir}/${n}`), `data:${n}`);
        const info = await sandbox.files.getInfo(`${dir}/${n}`);
        assert.equal(info.name, n);
        assert.equal(info.path, `${dir}/${n}`);
      }
      await sandbox.files.write(`${dir}/${names[2]}`, 'single', { useOctetStream: true });
      assert.equal(await sandbox.files.read(`${dir}/${names[2]}`), 'single');
      assert.deepEqual((await sandbox.files.list(dir)).map((e) => e.name).sort(), [...names].sort());
      assert.equal(await run(`ls ${sh(dir)} | sort`), [...names].sort((a, b) => (a < b ? -1 : 1)).map((n) => n + '\n').join(''));
    });

    it('resolves relative paths against the home directory', T, async (t) => {
      const rel = `e2e-rel-${randomId()}.txt`;
      t.after(() => sandbox.files.remove(`${HOME}/${rel}`).catch(() => {}));
      const info = await sandbox.files.write(rel, 'relative');
      assert.equal(info.path, `${HOME}/${rel}`);
      assert.equal(await sandbox.files.read(`${HOME}/${rel}`), 'relative');
      assert.equal(await sandbox.files.read(rel), 'relative');
      assert.equal((await sandbox.files.getInfo(rel)).path, `${HOME}/${rel}`);
    });

    it('writes and reads a 50 MiB file intact', { timeout: 120_000 }, async (t) => {
      const dir = await scratchDir(t, sandbox);
      const path = `${dir}/big.bin`;
      const data = recordData(50 * 1024 * 1024);
      const digest = sha256(data);
      await sandbox.files.write(path, new Blob([data]));
      assert.equal(await run(`sha256sum < ${sh(path)} | cut -d' ' -f1`), `${digest}\n`);
      const back = await sandbox.files.read(path, { format: 'bytes' });
      assert.equal(back.length, data.length);
      assert.equal(sha256(back), digest);
    });

    it('uploads a ReadableStream (octet-stream) and reads it back as a stream', { timeout: 120_000 }, async (t) => {
      const dir = await scratchDir(t, sandbox);
      const path = `${dir}/streamed.bin`;
      const chunkSize = 1024 * 1024;
      const count = 20;
      const hash = createHash('sha256');
      let sent = 0;
      const body = new ReadableStream({
        pull(controller) {
          if (sent === count) return controller.close();
          sent++;
          const chunk = recordData(chunkSize);
          hash.update(chunk);
          controller.enqueue(new Uint8Array(chunk));
        },
      });
      const info = await sandbox.files.write(path, body);
      assert.equal(info.path, path);
      assert.equal(sent, count);
      const digest = hash.digest('hex');
      const stream = await sandbox.files.read(path, { format: 'stream' });
      const h = createHash('sha256');
      let size = 0;
      for await (const c of stream) {
        h.update(c);
        size += c.length;
      }
      assert.equal(size, count * chunkSize);
      assert.equal(h.digest('hex'), digest);
    });

    it('supports gzip uploads and downloads', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      const path = `${dir}/gz.txt`;
      const text = 'compress me please\n'.repeat(20000);
      const info = await sandbox.files.write(path, text, { gzip: true });
      assert.equal(info.path, path);
      // Stored decompressed.
      assert.equal(await run(`wc -c < ${sh(path)}`), `${Buffer.byteLength(text)}\n`);
      assert.equal(await run(`sha256sum < ${sh(path)} | cut -d' ' -f1`), `${sha256(text)}\n`);
      assert.equal(await sandbox.files.read(path, { gzip: true }), text);
      const bytes = await sandbox.files.read(path, { format: 'bytes', gzip: true });
      assert.equal(Buffer.from(bytes).toString(), text);
    });

    it('answers a gzip-accepting GET /files with Content-Encoding: gzip', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      const path = `${dir}/gz2.txt`;
      const text = 'zip '.repeat(5000);
      await sandbox.files.write(path, text);
      const res = await fetch(`${ENVD_URL}/files?path=${encodeURIComponent(path)}`, {
        headers: { 'Accept-Encoding': 'gzip' },
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-encoding'), 'gzip');
      assert.equal(await res.text(), text); // fetch decompresses transparently
      const plain = await fetch(`${ENVD_URL}/files?path=${encodeURIComponent(path)}`, {
        headers: { 'Accept-Encoding': 'identity' },
      });
      assert.equal(plain.status, 200);
      assert.equal(plain.headers.get('content-encoding'), null);
      assert.equal(plain.headers.get('content-length'), String(text.length));
      assert.equal(await plain.text(), text);
    });
  });

  describe('raw /files HTTP API', () => {
    const url = (path) => `${ENVD_URL}/files?path=${encodeURIComponent(path)}`;

    it('GET honours Range requests (206 Partial Content)', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      const path = `${dir}/range.txt`;
      await sandbox.files.write(path, 'hello world');
      const res = await fetch(url(path), { headers: { Range: 'bytes=6-10', 'Accept-Encoding': 'identity' } });
      assert.equal(res.status, 206);
      assert.equal(res.headers.get('content-range'), 'bytes 6-10/11');
      assert.equal(await res.text(), 'world');
    });

    it('GET refuses when neither gzip nor identity is acceptable', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      const path = `${dir}/enc.txt`;
      await sandbox.files.write(path, 'x');
      const res = await fetch(url(path), { headers: { 'Accept-Encoding': 'br, identity;q=0' } });
      await res.arrayBuffer();
      // envd 0.6.13 answers 406; earlier releases answered 400. Never 200.
      assert.ok([400, 406].includes(res.status), `expected 406 (or 400), got ${res.status}`);
    });

    it('POST rejects an unsupported Content-Encoding with 400 and writes nothing', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      const path = `${dir}/br.txt`;
      const res = await fetch(url(path), {
        method: 'POST',
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Encoding': 'br' },
        body: 'not really brotli',
      });
      await res.arrayBuffer();
      assert.equal(res.status, 400);
      assert.equal(await sandbox.files.exists(path), false);
    });

    it('POST rejects an unsupported Content-Type and a raw body without path with 400', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      const plain = await fetch(url(`${dir}/p.txt`), {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain' },
        body: 'x',
      });
      await plain.arrayBuffer();
      assert.equal(plain.status, 400);
      const noPath = await fetch(`${ENVD_URL}/files`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/octet-stream' },
        body: 'x',
      });
      await noPath.arrayBuffer();
      assert.equal(noPath.status, 400);
    });
  });

  describe('list', () => {
    async function makeTree(t) {
      const dir = await scratchDir(t, sandbox);
      await run(
        `cd ${sh(dir)} && printf x > a.txt && mkdir -p b/d && printf yy > b/c.txt && printf z > b/d/e.txt`,
      );
      return dir;
    }

    it('lists direct children with depth 1 (default)', T, async (t) => {
      const dir = await makeTree(t);
      for (const entries of [await sandbox.files.list(dir), await sandbox.files.list(dir, { depth: 1 })]) {
        const got = entries.map((e) => [e.name, e.type, e.path]).sort();
        assert.deepEqual(got, [
          ['a.txt', 'file', `${dir}/a.txt`],
          ['b', 'dir', `${dir}/b`],
        ]);
        const a = entries.find((e) => e.name === 'a.txt');
        assert.equal(a.size, 1);
        assert.equal(a.owner, 'user');
        assert.equal(a.permissions, '-rw-r--r--');
        assert.ok(a.modifiedTime instanceof Date);
      }
    });

    it('lists grandchildren with depth 2', T, async (t) => {
      const dir = await makeTree(t);
      const entries = await sandbox.files.list(dir, { depth: 2 });
      const got = entries.map((e) => [e.name, e.type, e.path]).sort((x, y) => x[2].localeCompare(y[2]));
      assert.deepEqual(got, [
        ['a.txt', 'file', `${dir}/a.txt`],
        ['b', 'dir', `${dir}/b`],
        ['c.txt', 'file', `${dir}/b/c.txt`],
        ['d', 'dir', `${dir}/b/d`],
      ]);
      assert.equal(entries.find((e) => e.name === 'c.txt').size, 2);
    });

    it('lists everything with a large depth', T, async (t) => {
      const dir = await makeTree(t);
      const entries = await sandbox.files.list(dir, { depth: 10 });
      assert.deepEqual(entries.map((e) => e.path).sort(), [
        `${dir}/a.txt`, `${dir}/b`, `${dir}/b/c.txt`, `${dir}/b/d`, `${dir}/b/d/e.txt`,
      ]);
    });

    it('lists an empty directory as []', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      assert.deepEqual(await sandbox.files.list(dir), []);
    });

    it('rejects listing a missing directory with FileNotFoundError', T, async () => {
      await assert.rejects(sandbox.files.list(`/nonexistent-${randomId()}`), assertFileNotFound);
    });

    it('rejects listing a file with InvalidArgumentError', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      await sandbox.files.write(`${dir}/f`, 'x');
      await assert.rejects(sandbox.files.list(`${dir}/f`), InvalidArgumentError);
    });
  });

  describe('exists, getInfo, makeDir, rename, remove', () => {
    it('exists() is true for files and directories, false otherwise', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      await sandbox.files.write(`${dir}/f.txt`, 'x');
      assert.equal(await sandbox.files.exists(`${dir}/f.txt`), true);
      assert.equal(await sandbox.files.exists(dir), true);
      assert.equal(await sandbox.files.exists(`${dir}/missing`), false);
      assert.equal(await sandbox.files.exists(`/nonexistent-${randomId()}/x`), false);
    });

    it('getInfo() describes a file', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      const path = `${dir}/info.txt`;
      const before = Date.now();
      await sandbox.files.write(path, 'hello');
      const info = await sandbox.files.getInfo(path);
      assert.equal(info.name, 'info.txt');
      assert.equal(info.type, 'file');
      assert.equal(info.path, path);
      assert.equal(info.size, 5);
      assert.equal(info.permissions, '-rw-r--r--');
      assert.equal(info.mode, 0o644);
      assert.equal(info.owner, 'user');
      assert.equal(info.group, 'user');
      assert.ok(info.modifiedTime instanceof Date, 'modifiedTime is not a Date');
      assert.ok(Math.abs(info.modifiedTime.getTime() - before) < 60_000, `odd modifiedTime ${info.modifiedTime}`);
      assert.equal(info.symlinkTarget, undefined);
      const mtime = Number(await run(`stat -c %Y ${sh(path)}`));
      assert.equal(Math.floor(info.modifiedTime.getTime() / 1000), mtime);
    });

    it('getInfo() describes a directory', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      await sandbox.files.makeDir(`${dir}/sub`);
      const info = await sandbox.files.getInfo(`${dir}/sub`);
      assert.equal(info.name, 'sub');
      assert.equal(info.type, 'dir');
      assert.equal(info.path, `${dir}/sub`);
      assert.equal(info.permissions, 'drwxr-xr-x');
      assert.equal(info.mode, 0o755);
      assert.equal(info.owner, 'user');
      assert.equal(info.group, 'user');
    });

    it('getInfo() reports other permissions and owners', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      await run(`cd ${sh(dir)} && printf 1 > x && chmod 750 x && printf 2 > r && sudo chown root:root r`);
      const x = await sandbox.files.getInfo(`${dir}/x`);
      assert.equal(x.permissions, '-rwxr-x---');
      assert.equal(x.mode, 0o750);
      const r = await sandbox.files.getInfo(`${dir}/r`);
      assert.equal(r.owner, 'root');
      assert.equal(r.group, 'root');
    });

    it('getInfo() of a missing path rejects with FileNotFoundError', T, async () => {
      await assert.rejects(sandbox.files.getInfo(`/nonexistent-${randomId()}`), assertFileNotFound);
    });

    it('makeDir() returns true, then false when the directory exists', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      assert.equal(await sandbox.files.makeDir(`${dir}/new`), true);
      assert.equal(await sandbox.files.makeDir(`${dir}/new`), false);
      assert.equal((await sandbox.files.getInfo(`${dir}/new`)).type, 'dir');
    });

    it('makeDir() creates all missing parents, owned by the user', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      assert.equal(await sandbox.files.makeDir(`${dir}/p/q/r`), true);
      assert.equal(await run(`stat -c '%U:%G %a' ${sh(dir + '/p')} ${sh(dir + '/p/q')} ${sh(dir + '/p/q/r')}`),
        'user:user 755\nuser:user 755\nuser:user 755\n');
    });

    it('makeDir() over an existing file rejects with InvalidArgumentError', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      await sandbox.files.write(`${dir}/file`, 'x');
      await assert.rejects(sandbox.files.makeDir(`${dir}/file`), InvalidArgumentError);
    });

    it('rename() moves a file', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      await sandbox.files.write(`${dir}/old.txt`, 'content');
      const info = await sandbox.files.rename(`${dir}/old.txt`, `${dir}/new.txt`);
      assert.equal(info.path, `${dir}/new.txt`);
      assert.equal(info.name, 'new.txt');
      assert.equal(info.type, 'file');
      assert.equal(await sandbox.files.exists(`${dir}/old.txt`), false);
      assert.equal(await sandbox.files.exists(`${dir}/new.txt`), true);
      assert.equal(await sandbox.files.read(`${dir}/new.txt`), 'content');
    });

    it('rename() moves a directory into a new parent and replaces an existing file', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      await sandbox.files.write(`${dir}/src/inner.txt`, 'inner');
      const info = await sandbox.files.rename(`${dir}/src`, `${dir}/made/up/dst`);
      assert.equal(info.type, 'dir');
      assert.equal(await sandbox.files.read(`${dir}/made/up/dst/inner.txt`), 'inner');
      assert.equal(await sandbox.files.exists(`${dir}/src`), false);
      await sandbox.files.write(`${dir}/a`, 'A');
      await sandbox.files.write(`${dir}/b`, 'B');
      await sandbox.files.rename(`${dir}/a`, `${dir}/b`);
      assert.equal(await sandbox.files.read(`${dir}/b`), 'A');
    });

    it('rename() of a missing path rejects with FileNotFoundError', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      await assert.rejects(sandbox.files.rename(`${dir}/missing`, `${dir}/other`), assertFileNotFound);
    });

    it('remove() deletes files and directories recursively', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      await sandbox.files.write([
        { path: `${dir}/f.txt`, data: 'x' },
        { path: `${dir}/tree/a/b.txt`, data: 'y' },
      ]);
      await sandbox.files.remove(`${dir}/f.txt`);
      assert.equal(await sandbox.files.exists(`${dir}/f.txt`), false);
      await sandbox.files.remove(`${dir}/tree`);
      assert.equal(await sandbox.files.exists(`${dir}/tree`), false);
      assert.equal(await sandbox.files.exists(dir), true);
    });

    it('remove() of a missing path does not throw', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      await sandbox.files.remove(`${dir}/never-existed`);
      await sandbox.files.remove(`/nonexistent-${randomId()}/deeper`);
    });
  });

  describe('symlinks', () => {
    it('getInfo() and list() report the symlink target; reads go through the link', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      await sandbox.files.write(`${dir}/target.txt`, 'through the link');
      await run(`ln -s ${sh(dir + '/target.txt')} ${sh(dir + '/link')}`);
      const info = await sandbox.files.getInfo(`${dir}/link`);
      assert.equal(info.name, 'link');
      assert.equal(info.path, `${dir}/link`);
      assert.equal(info.symlinkTarget, `${dir}/target.txt`);
      assert.equal(info.type, 'file'); // E2B reports the target's type
      assert.match(info.permissions, /^L/);
      const listed = (await sandbox.files.list(dir)).find((e) => e.name === 'link');
      assert.ok(listed, 'symlink not listed');
      assert.equal(listed.symlinkTarget, `${dir}/target.txt`);
      assert.equal(listed.path, `${dir}/link`);
      const plain = (await sandbox.files.list(dir)).find((e) => e.name === 'target.txt');
      assert.equal(plain.symlinkTarget, undefined);
      assert.equal(await sandbox.files.read(`${dir}/link`), 'through the link');
    });

    it('writing to a symlink writes its target and keeps the link', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      await sandbox.files.write(`${dir}/real.txt`, 'before');
      await run(`ln -s real.txt ${sh(dir + '/alias')}`);
      await sandbox.files.write(`${dir}/alias`, 'after');
      assert.equal(await run(`cat ${sh(dir + '/real.txt')}`), 'after');
      assert.equal(await run(`readlink ${sh(dir + '/alias')}`), 'real.txt\n', 'the symlink was replaced');
      assert.equal(await sandbox.files.read(`${dir}/alias`), 'after');
    });

    it('a relative symlink to a directory resolves to its absolute target', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      await sandbox.files.write(`${dir}/real/inside.txt`, 'in');
      await run(`cd ${sh(dir)} && ln -s real dirlink`);
      const info = await sandbox.files.getInfo(`${dir}/dirlink`);
      assert.equal(info.symlinkTarget, `${dir}/real`);
      assert.equal(info.type, 'dir');
      assert.equal(await sandbox.files.read(`${dir}/dirlink/inside.txt`), 'in');
      const entries = await sandbox.files.list(`${dir}/dirlink`);
      assert.deepEqual(entries.map((e) => [e.name, e.path]), [['inside.txt', `${dir}/dirlink/inside.txt`]]);
    });
  });

  describe('ownership and users', () => {
    it('files written by default are owned by `user`', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      await sandbox.files.write(`${dir}/mine.txt`, 'x');
      assert.equal(await run(`stat -c '%U:%G' ${sh(dir + '/mine.txt')}`), 'user:user\n');
    });

    it('files written with user root are owned by root', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      await sandbox.files.write(`${dir}/root.txt`, 'x', { user: 'root' });
      assert.equal(await run(`stat -c '%U:%G' ${sh(dir + '/root.txt')}`), 'root:root\n');
      const info = await sandbox.files.getInfo(`${dir}/root.txt`);
      assert.equal(info.owner, 'root');
    });

    it('relative paths resolve against the home of the given user', T, async () => {
      const name = `e2e-root-${randomId()}.txt`;
      try {
        const info = await sandbox.files.write(name, 'r', { user: 'root' });
        assert.equal(info.path, `/root/${name}`);
        assert.equal(await run(`cat /root/${name}`, { user: 'root' }), 'r');
      } finally {
        await sandbox.files.remove(`/root/${name}`).catch(() => {});
      }
    });
  });

  describe('metadata', () => {
    it('write({metadata}) stores metadata that getInfo() and list() return', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      const path = `${dir}/meta.txt`;
      const info = await sandbox.files.write(path, 'm', { metadata: { k: 'v', Owner_Team: 'Data Science' } });
      assert.deepEqual(info.metadata, { k: 'v', owner_team: 'Data Science' });
      const stat = await sandbox.files.getInfo(path);
      assert.deepEqual(stat.metadata, { k: 'v', owner_team: 'Data Science' });
      const listed = (await sandbox.files.list(dir)).find((e) => e.name === 'meta.txt');
      assert.deepEqual(listed.metadata, { k: 'v', owner_team: 'Data Science' });
    });

    it('a later write replaces the metadata set; files without metadata have none', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      const path = `${dir}/meta2.txt`;
      await sandbox.files.write(path, '1', { metadata: { a: '1', b: '2' } });
      await sandbox.files.write(path, '2', { metadata: { c: '3' } });
      assert.deepEqual((await sandbox.files.getInfo(path)).metadata, { c: '3' });
      await sandbox.files.write(`${dir}/plain.txt`, 'p');
      assert.equal((await sandbox.files.getInfo(`${dir}/plain.txt`)).metadata, undefined);
    });
  });

  describe('errors', () => {
    it('read() of a missing file rejects with FileNotFoundError', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      await assert.rejects(sandbox.files.read(`${dir}/missing.txt`), assertFileNotFound);
      await assert.rejects(sandbox.files.read(`${dir}/missing.txt`, { format: 'bytes' }), assertFileNotFound);
    });

    it('read() of a directory rejects with InvalidArgumentError', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      await assert.rejects(sandbox.files.read(dir), InvalidArgumentError);
    });

    it('an unknown user is rejected with AuthenticationError', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      await sandbox.files.write(`${dir}/x`, 'x');
      const user = `nobody${randomId(3)}`;
      await assert.rejects(sandbox.files.read(`${dir}/x`, { user }), AuthenticationError);
      await assert.rejects(sandbox.files.write(`${dir}/y`, 'y', { user }), AuthenticationError);
      await assert.rejects(sandbox.files.list(dir, { user }), AuthenticationError);
      assert.equal(await sandbox.files.exists(`${dir}/y`), false);
    });

    it('write() onto a directory rejects with InvalidArgumentError', T, async (t) => {
      const dir = await scratchDir(t, sandbox);
      await sandbox.files.makeDir(`${dir}/d`);
      await assert.rejects(sandbox.files.write(`${dir}/d`, 'x'), InvalidArgumentError);
    });
  });
});
