// The E2B SDK's Template.build() against `cella up`: fromTemplate, copy, runCmd, setEnvs,
// setWorkdir, setStartCmd with a ready command; a sandbox of the result; a rebuild from
// the cache; a failing step. Run by e2e's CellaUpTest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Template, Sandbox } from 'e2b';

const context = fs.mkdtempSync(path.join(os.tmpdir(), 'cella-template-'));
fs.mkdirSync(path.join(context, 'app'));
fs.writeFileSync(path.join(context, 'app', 'hello.txt'), 'hello from the context\n');
fs.writeFileSync(path.join(context, 'app', 'run.sh'), '#!/bin/sh\necho ran\n');

const template = () => Template({ fileContextPath: context })
  .fromTemplate('base')
  .copy('app', '/opt/app', { user: 'user' })
  .runCmd('chmod +x /opt/app/run.sh && echo built > /opt/app/built.txt')
  .setEnvs({ APP_MODE: 'e2e' })
  .setWorkdir('/opt/app')
  .setStartCmd('python3 -m http.server 8080', 'curl -sf http://127.0.0.1:8080/ >/dev/null');

test('Template.build makes a template a sandbox starts from; a rebuild is cached', { timeout: 300_000 }, async () => {
  const logs = [];
  const built = await Template.build(template(), 'e2e-app', { onBuildLogs: (l) => logs.push(l.message) });
  assert.equal(built.name, 'e2e-app');
  assert.ok(logs.some((l) => l.includes('COPY app /opt/app')), logs.join('\n'));
  assert.ok(await Template.exists?.('e2e-app') ?? true);

  const s = await Sandbox.create('e2e-app', { timeoutMs: 120_000 });
  try {
    const r = await s.commands.run('pwd; cat hello.txt built.txt; ./run.sh; stat -c %U hello.txt; echo $APP_MODE; curl -s -o /dev/null -w "%{http_code}" http://127.0.0.1:8080/');
    assert.equal(r.stdout, '/opt/app\nhello from the context\nbuilt\nran\nuser\ne2e\n200');
  } finally {
    await s.kill();
  }

  const again = [];
  const t0 = Date.now();
  await Template.build(template(), 'e2e-app', { onBuildLogs: (l) => again.push(l.message) });
  assert.ok(again.some((l) => l.includes('(cached)')), again.join('\n'));
  assert.ok(again.some((l) => l.includes('already cached')), 'the context is not uploaded twice');
  assert.ok(Date.now() - t0 < 30_000, `a cached rebuild took ${Date.now() - t0} ms`);

  // tags: name:tag starts the build the tag names
  assert.equal(await Template.exists('e2e-app'), true);
  assert.equal(await Template.exists('e2e-nothing'), false);
  const assigned = await Template.assignTags('e2e-app', ['stable']);
  assert.deepEqual(assigned.tags, ['stable']);
  const tags = (await Template.getTags(built.templateId)).map((t) => t.tag).sort();
  assert.deepEqual(tags, ['default', 'stable']);
  const tagged = await Sandbox.create('e2e-app:stable', { timeoutMs: 60_000 });
  try {
    assert.equal((await tagged.commands.run('cat built.txt')).stdout, 'built\n');
  } finally {
    await tagged.kill();
  }
  await Template.removeTags('e2e-app', ['stable']);
  await assert.rejects(Sandbox.create('e2e-app:stable'), /not found|404|no ready build/i);

  // skipCache: every step runs again
  const forced = [];
  await Template.build(template(), 'e2e-app', { skipCache: true, onBuildLogs: (l) => forced.push(l.message) });
  assert.ok(!forced.some((l) => l.includes('(cached)')), forced.join('\n'));
  assert.ok(forced.some((l) => l.includes('RUN chmod +x')), forced.join('\n'));
});

test('a failing step fails the build and says which', { timeout: 120_000 }, async () => {
  await assert.rejects(
    Template.build(Template().fromTemplate('base').runCmd('echo going down; exit 7'), 'e2e-broken'),
    (e) => /exit code 7/.test(e.message),
  );
});
