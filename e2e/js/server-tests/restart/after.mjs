// After a restart of `cella up` on the same data directory: the same key works, and the
// sandbox is there with its file and its process.
import assert from 'node:assert/strict';
const { Sandbox } = await import(process.env.E2B_SDK_PACKAGE || 'e2b');
const id = process.env.CELLA_RESTART_SANDBOX;
const s = await Sandbox.connect(id);
assert.equal(await s.files.read('/home/user/before-restart.txt'), 'written before the restart');
assert.equal((await s.commands.run('pgrep -c -f "sleep 900"')).stdout.trim(), '1');
assert.equal(await s.kill(), true);
console.log('restart ok');
