// Shared helpers for the Cella envd end-to-end tests.
//
// The official E2B JS SDK is used in debug mode: Sandbox.create() makes no REST
// calls and talks to envd at http://localhost:49983 (sandbox id
// `debug_sandbox_id`, envd version 99.99.99, so every feature gate is open).
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { Sandbox } from 'e2b';

process.env.E2B_DEBUG = 'true';

export const ENVD_URL = 'http://localhost:49983';
export const HOME = '/home/user';

/** Waits until envd answers `GET /health` with 204. */
export async function waitForEnvd(timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${ENVD_URL}/health`);
      await res.arrayBuffer();
      if (res.status === 204) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err.message;
    }
    await delay(250);
  }
  throw new Error(`envd at ${ENVD_URL} is not healthy: ${last}`);
}

/** A Sandbox object bound to the local envd (debug mode, no REST calls). */
export async function createSandbox(opts = {}) {
  await waitForEnvd();
  return Sandbox.create({ debug: true, ...opts });
}

export function randomId(bytes = 6) {
  return randomBytes(bytes).toString('hex');
}

/** Single-quotes a string for a POSIX shell. */
export function sh(s) {
  return `'${String(s).replace(/'/g, `'"'"'`)}'`;
}

/**
 * Creates a fresh scratch directory /home/user/e2e-<random> owned by `user`
 * and removes it when the test ends.
 */
export async function scratchDir(t, sandbox) {
  const dir = `${HOME}/e2e-${randomId()}`;
  await sandbox.commands.run(`mkdir -p ${sh(dir)}`);
  t.after(async () => {
    try {
      await sandbox.commands.run(`rm -rf ${sh(dir)}`, { user: 'root' });
    } catch {
      // best effort
    }
  });
  return dir;
}

/**
 * Polls `fn` until it returns a truthy value (which is returned) or the
 * deadline passes (then throws with `message` and the last value/error).
 */
export async function waitUntil(fn, { timeoutMs = 10_000, intervalMs = 50, message = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      const detail = last instanceof Error ? `${last.name}: ${last.message}` : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${message} (last: ${detail})`);
    }
    await delay(intervalMs);
  }
}

/** Races a promise against a deadline. */
export async function withTimeout(promise, ms, what = 'operation') {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Returns the pids of processes whose full command line equals `cmdline`. */
export async function pidsByCmdline(sandbox, cmdline) {
  // Bracket the first character so the pattern never matches pgrep's own
  // caller (bash -c "pgrep -f '^[s]leep ...'").
  const escaped = cmdline.replace(/[.*+?^${}()|\\]/g, '\\$&');
  const pattern = `^[${escaped[0]}]${escaped.slice(1)}$`;
  const res = await sandbox.commands.run(`pgrep -f ${sh(pattern)} || true`, { user: 'root' });
  return res.stdout.split(/\s+/).filter(Boolean).map(Number);
}

export { delay };
