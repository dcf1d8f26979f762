// commands.run: output, exit codes, environment, cwd, user, timeouts, streaming.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { AuthenticationError, CommandExitError, InvalidArgumentError, TimeoutError } from 'e2b';
import { createSandbox, scratchDir, randomId, pidsByCmdline, waitUntil, sh, HOME } from './helpers.mjs';

const T = { timeout: 60_000 };

describe('commands.run', () => {
  let sandbox;
  before(async () => {
    sandbox = await createSandbox();
  });

  it('returns stdout of a successful command', T, async () => {
    const res = await sandbox.commands.run('echo hello; printf "no newline"');
    assert.equal(res.exitCode, 0);
    assert.equal(res.stdout, 'hello\nno newline');
    assert.equal(res.stderr, '');
    assert.equal(res.error, undefined);
  });

  it('returns stderr separately from stdout', T, async () => {
    const res = await sandbox.commands.run('echo to-out; echo to-err >&2');
    assert.equal(res.exitCode, 0);
    assert.equal(res.stdout, 'to-out\n');
    assert.equal(res.stderr, 'to-err\n');
  });

  it('keeps multi-byte UTF-8 output intact', T, async () => {
    const res = await sandbox.commands.run(`printf '%s\\n' ${sh('héllo ✓ 😀 日本語')}`);
    assert.equal(res.stdout, 'héllo ✓ 😀 日本語\n');
  });

  it('throws CommandExitError with exitCode, stdout and stderr on a non-zero exit', T, async () => {
    await assert.rejects(
      sandbox.commands.run('echo partial; echo broken >&2; exit 3'),
      (err) => {
        assert.ok(err instanceof CommandExitError, `expected CommandExitError, got ${err?.name}: ${err?.message}`);
        assert.equal(err.exitCode, 3);
        assert.equal(err.stdout, 'partial\n');
        assert.equal(err.stderr, 'broken\n');
        assert.equal(err.error, 'exit status 3');
        assert.equal(err.message, 'exit status 3');
        return true;
      },
    );
  });

  it('reports exit code 127 for an unknown binary', T, async () => {
    await assert.rejects(
      sandbox.commands.run('definitely-not-a-command-' + randomId()),
      (err) => {
        assert.ok(err instanceof CommandExitError, `expected CommandExitError, got ${err?.name}: ${err?.message}`);
        assert.equal(err.exitCode, 127);
        assert.match(err.stderr, /not found/);
        return true;
      },
    );
  });

  it('reports exitCode -1 when the command is killed by a signal', T, async () => {
    await assert.rejects(
      sandbox.commands.run('kill -9 $$'),
      (err) => {
        assert.ok(err instanceof CommandExitError, `expected CommandExitError, got ${err?.name}: ${err?.message}`);
        assert.equal(err.exitCode, -1);
        assert.equal(err.error, 'signal: killed');
        return true;
      },
    );
  });

  it('passes per-command envs to the command only', T, async () => {
    const res = await sandbox.commands.run('echo "$FOO|$BAR"', { envs: { FOO: 'foo value', BAR: 'x=y;z' } });
    assert.equal(res.stdout, 'foo value|x=y;z\n');
    const after = await sandbox.commands.run('echo "${FOO-unset}"');
    assert.equal(after.stdout, 'unset\n');
  });

  it('per-command envs override the defaults (HOME, PATH stays usable)', T, async () => {
    const res = await sandbox.commands.run('echo "$HOME"; command -v ls', { envs: { HOME: '/tmp' } });
    const [home, ls] = res.stdout.trim().split('\n');
    assert.equal(home, '/tmp');
    assert.match(ls, /\/ls$/);
  });

  it('runs in the given cwd', T, async (t) => {
    const dir = await scratchDir(t, sandbox);
    const res = await sandbox.commands.run('pwd; touch here.txt', { cwd: dir });
    assert.equal(res.stdout, `${dir}\n`);
    const check = await sandbox.commands.run(`test -f ${sh(dir + '/here.txt')} && echo yes`);
    assert.equal(check.stdout, 'yes\n');
  });

  it("defaults cwd to the user's home directory", T, async () => {
    const res = await sandbox.commands.run('pwd');
    assert.equal(res.stdout, `${HOME}\n`);
  });

  it('resolves a relative cwd against the home directory', T, async (t) => {
    const dir = await scratchDir(t, sandbox);
    const rel = dir.slice(HOME.length + 1);
    const res = await sandbox.commands.run('pwd', { cwd: rel });
    assert.equal(res.stdout, `${dir}\n`);
  });

  it('rejects a cwd that does not exist with InvalidArgumentError', T, async () => {
    await assert.rejects(
      sandbox.commands.run('pwd', { cwd: `/nonexistent-${randomId()}` }),
      (err) => {
        assert.ok(err instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${err?.name}: ${err?.message}`);
        return true;
      },
    );
  });

  it('runs as the default user `user` with HOME=/home/user', T, async () => {
    const res = await sandbox.commands.run('whoami; id -u; echo "$HOME"; echo "$USER"; echo "$LOGNAME"');
    assert.deepEqual(res.stdout.trim().split('\n'), ['user', '1000', HOME, 'user', 'user']);
  });

  it('runs as root when user is root', T, async () => {
    const res = await sandbox.commands.run('whoami; id -u; echo "$HOME"; echo "$USER"', { user: 'root' });
    assert.deepEqual(res.stdout.trim().split('\n'), ['root', '0', '/root', 'root']);
  });

  it('rejects an unknown user with AuthenticationError', T, async () => {
    await assert.rejects(sandbox.commands.run('id', { user: `nobody${randomId(3)}` }), (err) => {
      assert.ok(err instanceof AuthenticationError, `expected AuthenticationError, got ${err?.name}: ${err?.message}`);
      return true;
    });
  });

  it('runs with the supplementary groups of the user', T, async () => {
    const expected = (await sandbox.commands.run('id -Gn user', { user: 'root' })).stdout.trim().split(/\s+/).sort();
    const actual = (await sandbox.commands.run('id -Gn')).stdout.trim().split(/\s+/).sort();
    assert.deepEqual(actual, expected);
  });

  it('kills the process when timeoutMs passes', { timeout: 30_000 }, async (t) => {
    // A unique duration makes the process easy to find with pgrep.
    const secs = `30.${Math.floor(Math.random() * 9000) + 1000}`;
    const cmdline = `sleep ${secs}`;
    t.after(async () => {
      for (const pid of await pidsByCmdline(sandbox, cmdline).catch(() => [])) {
        await sandbox.commands.run(`kill -9 ${pid} || true`, { user: 'root' }).catch(() => {});
      }
    });
    const started = Date.now();
    await assert.rejects(
      sandbox.commands.run(cmdline, { timeoutMs: 1500 }),
      (err) => {
        assert.ok(err instanceof TimeoutError, `expected TimeoutError, got ${err?.name}: ${err?.message}`);
        return true;
      },
    );
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 1000, `rejected too early (${elapsed} ms)`);
    assert.ok(elapsed < 6000, `took ${elapsed} ms to time out`);
    // envd must have killed the process itself (the SDK never does).
    await waitUntil(async () => (await pidsByCmdline(sandbox, cmdline)).length === 0, {
      timeoutMs: 5000,
      intervalMs: 200,
      message: `no "${cmdline}" process left`,
    });
  });

  it('streams output as it is produced', T, async () => {
    const chunks = [];
    const res = await sandbox.commands.run('echo first; sleep 2; echo second', {
      onStdout: (data) => chunks.push({ data, at: Date.now() }),
    });
    const finished = Date.now();
    assert.equal(res.stdout, 'first\nsecond\n');
    assert.equal(chunks.map((c) => c.data).join(''), 'first\nsecond\n');
    const first = chunks.find((c) => c.data.includes('first'));
    assert.ok(first, 'onStdout never received "first"');
    assert.ok(!first.data.includes('second'), 'first and second arrived in one chunk: output was not streamed');
    assert.ok(finished - first.at > 1000, `"first" arrived only ${finished - first.at} ms before the result`);
  });

  it('streams stderr through onStderr', T, async () => {
    const out = [];
    const err = [];
    const res = await sandbox.commands.run('echo a; echo b >&2; echo c; echo d >&2', {
      onStdout: (d) => out.push(d),
      onStderr: (d) => err.push(d),
    });
    assert.equal(out.join(''), 'a\nc\n');
    assert.equal(err.join(''), 'b\nd\n');
    assert.equal(res.stdout, 'a\nc\n');
    assert.equal(res.stderr, 'b\nd\n');
  });

  it('delivers large output (5 MB) completely', T, async () => {
    const size = 5_000_000;
    let streamed = 0;
    const res = await sandbox.commands.run(`head -c ${size} /dev/zero | tr '\\0' a`, {
      onStdout: (d) => {
        streamed += d.length;
      },
    });
    assert.equal(res.stdout.length, size);
    assert.equal(streamed, size);
    assert.ok(/^a+$/.test(res.stdout), 'output contains bytes other than "a"');
  });

  it('delivers large stderr output and stdout together', T, async () => {
    const res = await sandbox.commands.run(
      'head -c 1000000 /dev/zero | tr "\\0" x >&2; head -c 1000000 /dev/zero | tr "\\0" y',
    );
    assert.equal(res.stderr.length, 1_000_000);
    assert.equal(res.stdout.length, 1_000_000);
    assert.ok(/^x+$/.test(res.stderr));
    assert.ok(/^y+$/.test(res.stdout));
  });

  it('runs commands concurrently', T, async () => {
    const started = Date.now();
    const results = await Promise.all(
      [1, 2, 3, 4].map((i) => sandbox.commands.run(`sleep 1; echo ${i}`)),
    );
    assert.deepEqual(results.map((r) => r.stdout), ['1\n', '2\n', '3\n', '4\n']);
    assert.ok(Date.now() - started < 3500, 'commands did not run concurrently');
  });

  it('gives the command no stdin by default (reads hit EOF)', T, async () => {
    const res = await sandbox.commands.run('cat; echo done', { timeoutMs: 10_000 });
    assert.equal(res.stdout, 'done\n');
  });
});
