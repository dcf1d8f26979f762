// files.watchDir: plain and recursive watches, stop().
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { FileNotFoundError, InvalidArgumentError, TimeoutError } from 'e2b';
import { createSandbox, scratchDir, randomId, waitUntil, delay, sh } from './helpers.mjs';

const T = { timeout: 60_000 };

describe('watchDir', () => {
  let sandbox;
  before(async () => {
    sandbox = await createSandbox();
  });

  /** Starts a watch that records events; it is stopped when the test ends. */
  async function watch(t, dir, opts) {
    const events = [];
    const handle = await sandbox.files.watchDir(dir, (e) => events.push(e), opts);
    t.after(() => handle.stop());
    const has = (type, name) => events.some((e) => e.type === type && e.name === name);
    const waitFor = (type, name, timeoutMs = 10_000) =>
      waitUntil(() => has(type, name), {
        timeoutMs,
        message: `${type} event for "${name}" (got ${JSON.stringify(events.map((e) => [e.type, e.name]))})`,
      });
    return { events, handle, has, waitFor };
  }

  it('reports create, write and remove of a file', T, async (t) => {
    const dir = await scratchDir(t, sandbox);
    const w = await watch(t, dir);
    await sandbox.commands.run(`printf hello > ${sh(dir + '/f.txt')}`);
    await w.waitFor('create', 'f.txt');
    await w.waitFor('write', 'f.txt');
    await sandbox.files.remove(`${dir}/f.txt`);
    await w.waitFor('remove', 'f.txt');
    for (const e of w.events) {
      assert.equal(typeof e.name, 'string');
      assert.ok(!e.name.startsWith('/'), `event name should be relative, got ${e.name}`);
    }
    // create comes before remove
    const iCreate = w.events.findIndex((e) => e.type === 'create' && e.name === 'f.txt');
    const iRemove = w.events.findIndex((e) => e.type === 'remove' && e.name === 'f.txt');
    assert.ok(iCreate < iRemove);
  });

  it('files.write() is seen as create and write of that file, with no other names', T, async (t) => {
    const dir = await scratchDir(t, sandbox);
    const w = await watch(t, dir);
    await sandbox.files.write(`${dir}/up.txt`, 'uploaded');
    await w.waitFor('create', 'up.txt');
    await w.waitFor('write', 'up.txt', 5000);
    await sandbox.commands.run(`touch ${sh(dir + '/sentinel')}`);
    await w.waitFor('create', 'sentinel');
    const names = [...new Set(w.events.map((e) => e.name))].sort();
    assert.deepEqual(names, ['sentinel', 'up.txt'], `events: ${JSON.stringify(w.events.map((e) => [e.type, e.name]))}`);
  });

  it('reports events caused by commands, including appends and chmod', T, async (t) => {
    const dir = await scratchDir(t, sandbox);
    const w = await watch(t, dir);
    await sandbox.commands.run(`cd ${sh(dir)} && echo one > c.txt`);
    await w.waitFor('create', 'c.txt');
    const writes = () => w.events.filter((e) => e.type === 'write' && e.name === 'c.txt').length;
    await waitUntil(() => writes() >= 1, { message: 'write event for c.txt' });
    const before = writes();
    await sandbox.commands.run(`cd ${sh(dir)} && echo two >> c.txt`);
    await waitUntil(() => writes() > before, { message: 'write event for the append' });
    await sandbox.commands.run(`chmod 600 ${sh(dir + '/c.txt')}`);
    await w.waitFor('chmod', 'c.txt');
  });

  it('reports a rename as rename (old name) and create (new name)', T, async (t) => {
    const dir = await scratchDir(t, sandbox);
    await sandbox.files.write(`${dir}/before.txt`, 'x');
    const w = await watch(t, dir);
    await sandbox.files.rename(`${dir}/before.txt`, `${dir}/after.txt`);
    await w.waitFor('rename', 'before.txt');
    await w.waitFor('create', 'after.txt');
  });

  it('a plain watch does not report events inside subdirectories', T, async (t) => {
    const dir = await scratchDir(t, sandbox);
    await sandbox.files.makeDir(`${dir}/sub`);
    const w = await watch(t, dir);
    await sandbox.files.write(`${dir}/sub/deep.txt`, 'x');
    await sandbox.files.write(`${dir}/sentinel.txt`, 'x');
    await w.waitFor('create', 'sentinel.txt');
    await delay(300);
    const deep = w.events.filter((e) => e.name.includes('deep.txt'));
    assert.deepEqual(deep, [], 'non-recursive watch reported a nested file');
  });

  it('a recursive watch reports events in existing and new subdirectories', T, async (t) => {
    const dir = await scratchDir(t, sandbox);
    await sandbox.files.makeDir(`${dir}/existing`);
    const w = await watch(t, dir, { recursive: true });

    await sandbox.commands.run(`echo a > ${sh(dir + '/existing/a.txt')}`);
    await w.waitFor('create', 'existing/a.txt');
    await w.waitFor('write', 'existing/a.txt');

    await sandbox.files.makeDir(`${dir}/sub`);
    await w.waitFor('create', 'sub');
    // The watcher has to add the new directory; keep writing until an event
    // for the file shows up (a file created in the very same instant may be
    // missed, as with inotify-based watchers in general).
    const name = 'sub/file.txt';
    await waitUntil(
      async () => {
        if (w.events.some((e) => e.name === name)) return true;
        await sandbox.commands.run(`echo x >> ${sh(dir + '/' + name)}`);
        await delay(200);
        return w.events.some((e) => e.name === name);
      },
      { timeoutMs: 10_000, message: `an event for "${name}" (got ${JSON.stringify(w.events.map((e) => [e.type, e.name]))})` },
    );
    await sandbox.files.remove(`${dir}/${name}`);
    await w.waitFor('remove', name);

    // Two levels deep, created after the watch started.
    await sandbox.commands.run(`mkdir -p ${sh(dir + '/sub/x/y')}`);
    await w.waitFor('create', 'sub/x');
    await waitUntil(
      async () => {
        if (w.events.some((e) => e.name === 'sub/x/y/z.txt')) return true;
        await sandbox.commands.run(`echo hi >> ${sh(dir + '/sub/x/y/z.txt')}`);
        await delay(200);
        return w.events.some((e) => e.name === 'sub/x/y/z.txt');
      },
      { timeoutMs: 10_000, message: 'an event for "sub/x/y/z.txt"' },
    );
  });

  it('includeEntry adds the entry info to create/write events', T, async (t) => {
    const dir = await scratchDir(t, sandbox);
    const w = await watch(t, dir, { includeEntry: true });
    await sandbox.commands.run(`printf entry > ${sh(dir + '/e.txt')}`);
    await w.waitFor('write', 'e.txt');
    const ev = w.events.find((e) => e.type === 'create' && e.name === 'e.txt');
    assert.ok(ev, 'no create event');
    assert.ok(ev.entry, 'create event without entry');
    assert.equal(ev.entry.name, 'e.txt');
    assert.equal(ev.entry.path, `${dir}/e.txt`);
    assert.equal(ev.entry.type, 'file');
    const wr = w.events.find((e) => e.type === 'write' && e.name === 'e.txt');
    assert.ok(wr.entry, 'write event without entry');
    assert.equal(wr.entry.path, `${dir}/e.txt`);
    assert.equal(wr.entry.size, 5);
  });

  it('stop() ends the watch: no events afterwards', T, async (t) => {
    const dir = await scratchDir(t, sandbox);
    let exited = false;
    const w = await watch(t, dir, { onExit: () => { exited = true; } });
    await sandbox.files.write(`${dir}/first.txt`, 'x');
    await w.waitFor('create', 'first.txt');
    await w.handle.stop();
    await waitUntil(() => exited, { timeoutMs: 5000, message: 'onExit after stop()' });
    const count = w.events.length;
    await sandbox.files.write(`${dir}/second.txt`, 'x');
    await sandbox.files.remove(`${dir}/first.txt`);
    await delay(1000);
    assert.equal(w.events.length, count, `events after stop(): ${JSON.stringify(w.events.slice(count))}`);
    // The server side of the watch is gone too: a new watch still works.
    const w2 = await watch(t, dir);
    await sandbox.files.write(`${dir}/third.txt`, 'x');
    await w2.waitFor('create', 'third.txt');
  });

  it('a watch ends with a TimeoutError after timeoutMs', T, async (t) => {
    const dir = await scratchDir(t, sandbox);
    let exitErr = 'not exited';
    const started = Date.now();
    const w = await watch(t, dir, { timeoutMs: 1000, onExit: (err) => { exitErr = err; } });
    await waitUntil(() => exitErr !== 'not exited', { timeoutMs: 8000, message: 'onExit after timeoutMs' });
    assert.ok(exitErr instanceof TimeoutError, `expected TimeoutError, got ${exitErr?.name}: ${exitErr?.message}`);
    assert.ok(Date.now() - started >= 900);
    assert.equal(w.events.length, 0);
  });

  it('watching a missing directory rejects with FileNotFoundError', T, async () => {
    await assert.rejects(sandbox.files.watchDir(`/nonexistent-${randomId()}`, () => {}), (err) => {
      assert.ok(err instanceof FileNotFoundError, `expected FileNotFoundError, got ${err?.name}: ${err?.message}`);
      return true;
    });
  });

  it('watching a file rejects with InvalidArgumentError', T, async (t) => {
    const dir = await scratchDir(t, sandbox);
    await sandbox.files.write(`${dir}/plain`, 'x');
    await assert.rejects(sandbox.files.watchDir(`${dir}/plain`, () => {}), InvalidArgumentError);
  });
});
