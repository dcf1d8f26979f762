// Interactive PTY sessions: tty, size, resize, kill, exit.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { CommandExitError } from 'e2b';
import { createSandbox, waitUntil, withTimeout } from './helpers.mjs';

const T = { timeout: 60_000 };
const enc = new TextEncoder();

describe('pty', () => {
  let sandbox;
  before(async () => {
    sandbox = await createSandbox();
  });

  /** Starts a PTY and collects its output as text. */
  async function openPty(t, { cols = 100, rows = 30, ...rest } = {}) {
    const decoder = new TextDecoder();
    const term = { text: '', chunks: 0 };
    const handle = await sandbox.pty.create({
      cols,
      rows,
      onData: (data) => {
        assert.ok(data instanceof Uint8Array, 'onData must receive a Uint8Array');
        term.chunks++;
        term.text += decoder.decode(data, { stream: true });
      },
      ...rest,
    });
    t.after(async () => {
      await sandbox.pty.kill(handle.pid).catch(() => {});
    });
    term.handle = handle;
    term.send = (s) => sandbox.pty.sendInput(handle.pid, enc.encode(s));
    /** Sends a line and waits until the output after it matches `re`. */
    term.exchange = async (line, re, message = String(re)) => {
      const from = term.text.length;
      await term.send(line);
      return waitUntil(() => term.text.slice(from).match(re), { timeoutMs: 15_000, message });
    };
    return term;
  }

  it('runs an interactive shell on a /dev/pts terminal', T, async (t) => {
    const term = await openPty(t);
    assert.equal(typeof term.handle.pid, 'number');
    const m = await term.exchange('tty\n', /\/dev\/pts\/\d+/, 'tty to print /dev/pts/N');
    assert.match(m[0], /^\/dev\/pts\/\d+$/);
    assert.ok(term.chunks > 0);
  });

  it('has the requested size', T, async (t) => {
    const term = await openPty(t, { cols: 100, rows: 30 });
    await term.exchange('stty size\n', /(^|[\r\n])30 100\r?\n/, 'stty size to print "30 100"');
  });

  it('pty.resize() changes the terminal size', T, async (t) => {
    const term = await openPty(t, { cols: 80, rows: 24 });
    await term.exchange('stty size\n', /(^|[\r\n])24 80\r?\n/, 'initial size "24 80"');
    await sandbox.pty.resize(term.handle.pid, { cols: 120, rows: 40 });
    await term.exchange('stty size\n', /(^|[\r\n])40 120\r?\n/, 'stty size to print "40 120" after resize');
  });

  it('delivers large output completely and in order', T, async (t) => {
    const term = await openPty(t, { cols: 80, rows: 24 });
    const from = term.text.length;
    await term.send('seq 1 30000; echo "END$((6*7))"\n');
    await waitUntil(() => /END42/.test(term.text.slice(from)), { timeoutMs: 20_000, message: 'END42 after seq' });
    const numbers = term.text
      .slice(from)
      .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
      .replace(/\x1b\][^\x07]*\x07/g, '')
      .split('\n')
      .map((l) => l.replace(/\r/g, ''))
      .filter((l) => /^\d+$/.test(l))
      .map(Number);
    assert.equal(numbers.length, 30000);
    assert.ok(numbers.every((n, i) => n === i + 1), 'PTY output is out of order or has gaps');
  });

  it('runs as the default user with TERM and UTF-8 locale set', T, async (t) => {
    const term = await openPty(t);
    await term.exchange('echo "W=$(whoami) T=$TERM L=$LANG H=$HOME"\n', /W=user T=xterm-256color L=C\.UTF-8 H=\/home\/user/);
  });

  it('runs as root when user is root', T, async (t) => {
    const term = await openPty(t, { user: 'root' });
    await term.exchange('echo "W=$(whoami) U=$(id -u)"\n', /W=root U=0/);
  });

  it('starts in the given cwd and passes envs', T, async (t) => {
    const term = await openPty(t, { cwd: '/tmp', envs: { PTY_MARK: 'marked' } });
    await term.exchange('echo "P=$(pwd) M=$PTY_MARK"\n', /P=\/tmp M=marked/);
  });

  it('is listed by commands.list()', T, async (t) => {
    const term = await openPty(t);
    const p = (await sandbox.commands.list()).find((x) => x.pid === term.handle.pid);
    assert.ok(p, 'PTY process not listed');
    assert.equal(p.cmd, '/bin/bash');
    assert.deepEqual(p.args, ['-i', '-l']);
  });

  it('pty.kill(pid) ends the session', T, async (t) => {
    const term = await openPty(t);
    await term.exchange('echo ready\n', /(^|[\r\n])ready\r?\n/);
    assert.equal(await sandbox.pty.kill(term.handle.pid), true);
    await assert.rejects(withTimeout(term.handle.wait(), 10_000, 'PTY wait() after kill'), (err) => {
      assert.ok(err instanceof CommandExitError, `expected CommandExitError, got ${err?.name}: ${err?.message}`);
      assert.equal(err.exitCode, -1);
      return true;
    });
    await waitUntil(async () => (await sandbox.pty.kill(term.handle.pid)) === false, {
      message: 'kill() of the ended PTY to return false',
    });
  });

  it('`exit` ends the session with exit code 0', T, async (t) => {
    const term = await openPty(t);
    await term.exchange('echo ready\n', /(^|[\r\n])ready\r?\n/);
    await term.send('exit\n');
    const res = await withTimeout(term.handle.wait(), 10_000, 'PTY to end after exit');
    assert.equal(res.exitCode, 0);
  });

  it('`exit 5` ends the session with exit code 5', T, async (t) => {
    const term = await openPty(t);
    await term.send('exit 5\n');
    await assert.rejects(withTimeout(term.handle.wait(), 10_000, 'PTY to end after exit 5'), (err) => {
      assert.ok(err instanceof CommandExitError, `expected CommandExitError, got ${err?.name}: ${err?.message}`);
      assert.equal(err.exitCode, 5);
      return true;
    });
  });

  it('pty.connect() re-attaches to a running session', T, async (t) => {
    const term = await openPty(t);
    await term.exchange('echo ready\n', /(^|[\r\n])ready\r?\n/);
    await term.handle.disconnect();
    const decoder = new TextDecoder();
    let text = '';
    const again = await sandbox.pty.connect(term.handle.pid, {
      onData: (d) => {
        text += decoder.decode(d, { stream: true });
      },
    });
    assert.equal(again.pid, term.handle.pid);
    await term.send('echo "re$((40+2))"\n');
    await waitUntil(() => /re42/.test(text), { message: 'output on the re-attached PTY' });
    await term.send('exit\n');
    const res = await withTimeout(again.wait(), 10_000, 're-attached PTY to end');
    assert.equal(res.exitCode, 0);
  });
});
