// Background commands: list, connect, kill, stdin, disconnect.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { CommandExitError, NotFoundError, SandboxError, TimeoutError } from 'e2b';
import { createSandbox, scratchDir, waitUntil, withTimeout, sh, pidsByCmdline } from './helpers.mjs';

const T = { timeout: 60_000 };
const UNKNOWN_PID = 3_999_999;

describe('background commands', () => {
  let sandbox;
  before(async () => {
    sandbox = await createSandbox();
  });

  /** Kills `pid` when the test ends, whatever happened. */
  function killLater(t, pid) {
    t.after(async () => {
      await sandbox.commands.kill(pid).catch(() => {});
    });
  }

  async function isListed(pid) {
    return (await sandbox.commands.list()).some((p) => p.pid === pid);
  }

  it('returns a handle at once and wait() gives the result', T, async () => {
    const started = Date.now();
    const handle = await sandbox.commands.run('sleep 2; echo done', { background: true });
    assert.ok(Date.now() - started < 1800, 'run() with background:true waited for the command');
    assert.equal(typeof handle.pid, 'number');
    assert.ok(handle.pid > 0);
    assert.equal(handle.exitCode, undefined);
    const res = await handle.wait();
    assert.equal(res.exitCode, 0);
    assert.equal(res.stdout, 'done\n');
    assert.equal(handle.exitCode, 0);
  });

  it('commands.list() shows a running command with pid, cmd, args, envs and cwd', T, async (t) => {
    const dir = await scratchDir(t, sandbox);
    const handle = await sandbox.commands.run('sleep 30', {
      background: true,
      envs: { E2E_MARK: 'listed' },
      cwd: dir,
    });
    killLater(t, handle.pid);
    const procs = await sandbox.commands.list();
    const p = procs.find((x) => x.pid === handle.pid);
    assert.ok(p, `pid ${handle.pid} not in list: ${JSON.stringify(procs)}`);
    assert.equal(p.cmd, '/bin/bash');
    assert.deepEqual(p.args, ['-l', '-c', 'sleep 30']);
    assert.deepEqual(p.envs, { E2E_MARK: 'listed' });
    assert.equal(p.cwd, dir);
  });

  it('handle.kill() ends the command and returns true', T, async (t) => {
    const handle = await sandbox.commands.run('sleep 30', { background: true });
    killLater(t, handle.pid);
    assert.equal(await isListed(handle.pid), true);
    assert.equal(await handle.kill(), true);
    await assert.rejects(withTimeout(handle.wait(), 10_000, 'wait() after kill'), (err) => {
      assert.ok(err instanceof CommandExitError, `expected CommandExitError, got ${err?.name}: ${err?.message}`);
      assert.equal(err.exitCode, -1);
      assert.equal(err.error, 'signal: killed');
      return true;
    });
    await waitUntil(async () => !(await isListed(handle.pid)), { message: 'killed process to leave the list' });
  });

  it('commands.kill(pid) ends the command; false once it is gone', T, async (t) => {
    const handle = await sandbox.commands.run('sleep 30', { background: true });
    killLater(t, handle.pid);
    assert.equal(await sandbox.commands.kill(handle.pid), true);
    await assert.rejects(withTimeout(handle.wait(), 10_000, 'wait() after kill'), CommandExitError);
    await waitUntil(async () => (await sandbox.commands.kill(handle.pid)) === false, {
      message: 'kill() of an exited process to return false',
    });
  });

  it('commands.kill() returns false for an unknown pid', T, async () => {
    assert.equal(await sandbox.commands.kill(UNKNOWN_PID), false);
  });

  it('commands.connect() to an unknown pid rejects with NotFoundError', T, async () => {
    await assert.rejects(sandbox.commands.connect(UNKNOWN_PID), (err) => {
      assert.ok(err instanceof NotFoundError, `expected NotFoundError, got ${err?.name}: ${err?.message}`);
      return true;
    });
  });

  it('commands.connect(pid) re-attaches and receives only later output', T, async (t) => {
    const dir = await scratchDir(t, sandbox);
    const go = `${dir}/go`;
    const first = [];
    const handle = await sandbox.commands.run(
      `echo before; while [ ! -e ${sh(go)} ]; do sleep 0.05; done; echo after-connect; sleep 0.2; echo bye`,
      { background: true, onStdout: (d) => first.push(d) },
    );
    killLater(t, handle.pid);
    await waitUntil(() => first.join('').includes('before'), { message: '"before" on the first handle' });
    await handle.disconnect();

    const later = [];
    const again = await sandbox.commands.connect(handle.pid, { onStdout: (d) => later.push(d) });
    assert.equal(again.pid, handle.pid);
    await sandbox.commands.run(`touch ${sh(go)}`);
    await waitUntil(() => later.join('').includes('after-connect'), {
      message: '"after-connect" on the re-attached handle',
    });
    const res = await withTimeout(again.wait(), 10_000, 'wait() on connected handle');
    assert.equal(res.exitCode, 0);
    assert.equal(res.stdout, 'after-connect\nbye\n');
    assert.equal(later.join(''), 'after-connect\nbye\n');
    assert.ok(!first.join('').includes('after-connect'), 'disconnected handle still received output');
  });

  it('handle.disconnect() does not kill the command', T, async (t) => {
    const handle = await sandbox.commands.run('sleep 30', { background: true });
    killLater(t, handle.pid);
    await handle.disconnect();
    // Give a wrongly implemented server time to kill it on client disconnect.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await isListed(handle.pid), true, 'process vanished after disconnect');
    const again = await sandbox.commands.connect(handle.pid);
    assert.equal(again.pid, handle.pid);
    assert.equal(await sandbox.commands.kill(handle.pid), true);
    await assert.rejects(withTimeout(again.wait(), 10_000, 'wait() after kill'), (err) => {
      assert.ok(err instanceof CommandExitError, `expected CommandExitError, got ${err?.name}: ${err?.message}`);
      assert.equal(err.exitCode, -1);
      return true;
    });
  });

  it('connect() right after the command exited still delivers its exit code', T, async () => {
    const handle = await sandbox.commands.run('exit 7', { background: true });
    await assert.rejects(handle.wait(), (err) => err instanceof CommandExitError && err.exitCode === 7);
    const again = await sandbox.commands.connect(handle.pid);
    await assert.rejects(withTimeout(again.wait(), 10_000, 'wait() on finished process'), (err) => {
      assert.ok(err instanceof CommandExitError, `expected CommandExitError, got ${err?.name}: ${err?.message}`);
      assert.equal(err.exitCode, 7);
      return true;
    });
  });

  it('timeoutMs also limits a background command: envd kills it', T, async (t) => {
    const handle = await sandbox.commands.run('sleep 30', { background: true, timeoutMs: 1500 });
    killLater(t, handle.pid);
    await assert.rejects(withTimeout(handle.wait(), 10_000, 'wait() of a timed-out command'), (err) => {
      assert.ok(err instanceof TimeoutError, `expected TimeoutError, got ${err?.name}: ${err?.message}`);
      return true;
    });
    await waitUntil(async () => !(await isListed(handle.pid)), {
      timeoutMs: 5000,
      message: 'timed-out background command to be killed',
    });
  });

  it('a connect() timeout ends only that stream, not the command', T, async (t) => {
    const handle = await sandbox.commands.run('sleep 30', { background: true });
    killLater(t, handle.pid);
    await handle.disconnect();
    const again = await sandbox.commands.connect(handle.pid, { timeoutMs: 1000 });
    await assert.rejects(withTimeout(again.wait(), 10_000, 'wait() of a timed-out connect'), (err) => {
      assert.ok(err instanceof TimeoutError, `expected TimeoutError, got ${err?.name}: ${err?.message}`);
      return true;
    });
    assert.equal(await isListed(handle.pid), true, 'the command died with the connect stream');
  });

  it('kill() ends the command promptly even if a child keeps its output open', T, async (t) => {
    const child = `sleep 30.${Math.floor(Math.random() * 9000) + 1000}`;
    t.after(async () => {
      for (const pid of await pidsByCmdline(sandbox, child).catch(() => [])) {
        await sandbox.commands.run(`kill -9 ${pid} || true`, { user: 'root' }).catch(() => {});
      }
    });
    const out = [];
    const handle = await sandbox.commands.run(`${child} & echo started; wait`, {
      background: true,
      onStdout: (d) => out.push(d),
    });
    killLater(t, handle.pid);
    await waitUntil(() => out.join('').includes('started'), { message: '"started"' });
    assert.equal(await handle.kill(), true);
    await assert.rejects(withTimeout(handle.wait(), 5000, 'wait() after killing a command whose child holds stdout'), (err) => {
      assert.ok(err instanceof CommandExitError, `expected CommandExitError, got ${err?.name}: ${err?.message}`);
      assert.equal(err.exitCode, -1);
      return true;
    });
  });

  it('stdin: sendStdin feeds the process and closeStdin gives it EOF', T, async (t) => {
    const out = [];
    const handle = await sandbox.commands.run('cat', {
      background: true,
      stdin: true,
      onStdout: (d) => out.push(d),
    });
    killLater(t, handle.pid);
    await sandbox.commands.sendStdin(handle.pid, 'hello\n');
    await waitUntil(() => out.join('') === 'hello\n', { message: 'cat to echo "hello"' });
    await handle.sendStdin('second line\n');
    await waitUntil(() => out.join('') === 'hello\nsecond line\n', { message: 'cat to echo the second line' });
    await sandbox.commands.closeStdin(handle.pid);
    const res = await withTimeout(handle.wait(), 10_000, 'cat to exit after closeStdin');
    assert.equal(res.exitCode, 0);
    assert.equal(res.stdout, 'hello\nsecond line\n');
  });

  it('stdin: binary input reaches the process unchanged', T, async (t) => {
    const handle = await sandbox.commands.run('od -An -tx1 -v | tr -s " \\n" " "', {
      background: true,
      stdin: true,
    });
    killLater(t, handle.pid);
    await handle.sendStdin(new Uint8Array([0, 1, 0x7f, 0x80, 0xfe, 0xff]));
    await handle.closeStdin();
    const res = await withTimeout(handle.wait(), 10_000, 'od to exit');
    assert.equal(res.stdout.trim(), '00 01 7f 80 fe ff');
  });

  it('sendStdin to a command started without stdin fails', T, async (t) => {
    const handle = await sandbox.commands.run('sleep 30', { background: true });
    killLater(t, handle.pid);
    await assert.rejects(sandbox.commands.sendStdin(handle.pid, 'x'), SandboxError);
  });

  it('sendStdin to an unknown pid rejects with NotFoundError', T, async () => {
    await assert.rejects(sandbox.commands.sendStdin(UNKNOWN_PID, 'x'), (err) => {
      assert.ok(err instanceof NotFoundError, `expected NotFoundError, got ${err?.name}: ${err?.message}`);
      return true;
    });
  });
});
