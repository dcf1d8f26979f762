// Before a restart of `cella up`: a sandbox with a file and a running process. Prints its id.
import assert from 'node:assert/strict';
const { Sandbox } = await import(process.env.E2B_SDK_PACKAGE || 'e2b');
const s = await Sandbox.create({ timeoutMs: 300_000 });
await s.files.write('/home/user/before-restart.txt', 'written before the restart');
await s.commands.run('nohup sleep 900 >/dev/null 2>&1 &');
assert.equal((await s.commands.run('pgrep -c -f "sleep 900"')).stdout.trim(), '1');
console.log(`SANDBOX ${s.sandboxId}`);
