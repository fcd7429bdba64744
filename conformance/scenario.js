#!/usr/bin/env node
'use strict';

// Conformance with the official JavaScript client: starts a real accountd,
// runs every step of steps/*.js through losant-rest 2.8.1 (or plain HTTP
// with its headers, for the actions that client version lacks), and checks
// every response against the reference in ACCOUNTD_REFERENCE_DIR
// (api.json and schemas/*.json). Prints one line per step and ends with
// "N passed, N failed"; exits 1 if anything failed.
//
// Environment:
//   ACCOUNTD_REFERENCE_DIR        the reference folder (required)
//   ACCOUNTD_BIN                  the accountd binary (default: go build it)
//   ACCOUNTD_CONFORMANCE_TIMEOUT  overall limit in seconds (default 120)
//   ACCOUNTD_CONFORMANCE_KEEP     keep the temporary folder (database, log, outbox)

const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');

const { Reference } = require('./lib/reference');
const { Server, binary, createUser } = require('./lib/server');
const { Exchanger } = require('./lib/exchange');
const { Runner } = require('./lib/runner');
const { FakeGithub } = require('./lib/fakegithub');

// The scenario, in order. Each group lists the users it needs (created with
// `accountd user create` before the server starts) and its steps; a later
// group may use what an earlier one kept in ctx. To cover a new action, add
// steps to a group or a new group here.
const GROUPS = [
  require('./steps/session'),
  require('./steps/tokens'),
  require('./steps/verification'),
  require('./steps/twofactor'),
  require('./steps/github'),
  require('./steps/orgs'),
  require('./steps/orgroles'),
  require('./steps/limits'),
  require('./steps/usage'),
  require('./steps/ops'),
  require('./steps/delete'), // last: it deletes the account the others started with
];

const GITHUB_CLIENT_ID = 'conformance-client';

const out = (s) => process.stdout.write(s + '\n');

let server = null;
let github = null;
let tmp = null;
let runner = null;
let finished = false;

function cleanup() {
  if (server) { server.killNow(); }
  if (github) { github.stop(); }
  if (tmp && !process.env.ACCOUNTD_CONFORMANCE_KEEP) {
    try { fs.rmSync(tmp, { recursive: true, force: true }); } catch (_) { /* best effort */ }
  } else if (tmp) {
    out(`kept ${tmp}`);
  }
  tmp = null;
}

process.on('exit', () => { if (server) { server.killNow(); } });
// A reader that went away (| head) is no reason to leave the server behind.
process.stdout.on('error', () => { cleanup(); process.exit(1); });
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    out(`interrupted by ${sig}`);
    finish(1, `interrupted by ${sig}`);
  });
}

// finish prints the summary (once) and exits.
function finish(code, fatal) {
  if (finished) { return; }
  finished = true;
  let passed = runner ? runner.passed : 0;
  let failed = runner ? runner.failed : 0;
  if (fatal) {
    out(`FAIL ${fatal}`);
    failed++;
  }
  if (runner) { summary(runner); }
  if (server && server.exited && !server.stopping) {
    out(`FAIL accountd exited during the run (code ${server.exited.code}, signal ${server.exited.sig})`);
    failed++;
  }
  if (failed > 0 && server) {
    const problems = server.problems();
    if (problems.length) {
      out('# server warnings and errors');
      problems.slice(-20).forEach((l) => out('  ' + l));
    }
  }
  cleanup();
  out(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : code);
}

function summary(r) {
  out('# notes');
  if (r.undocumented.size) {
    out('not in the reference, expected (401/403/429 are answered by every action that needs a token or throttles; the reference lists them for few):');
    for (const k of [...r.undocumented.keys()].sort()) { out(`  ${k}`); }
  }
  if (r.unchecked.size) {
    out('actions the reference does not describe (status and error shape checked, no success schema):');
    for (const a of [...r.unchecked].sort()) { out(`  ${a}`); }
  }
  if (r.actions.has('userApiTokens.get')) {
    out('userApiTokens.get: the reference gives its 200 answer the single apiToken schema although the answer is a collection;');
    out('  validated as the reference says (any object passes it), and each item checked against apiToken.json as well');
  }
  if (r.uncovered && r.uncovered.length) {
    out('served (GET /openapi.json) but requested by no step yet:');
    for (const a of r.uncovered) { out(`  ${a}`); }
  }
  if (r.known.length) {
    out('known server discrepancies (not counted as failures):');
    r.known.forEach((k) => out(`  ${k}`));
  }
  if (r.fixed.length) {
    out('marked known but passing now (remove the mark):');
    r.fixed.forEach((k) => out(`  ${k}`));
  }
  if (r.failures.length) {
    out('failures:');
    r.failures.forEach((f) => out(`  ${f}`));
  }
}

async function main() {
  const refDir = process.env.ACCOUNTD_REFERENCE_DIR;
  if (!refDir) {
    out('ACCOUNTD_REFERENCE_DIR is not set: the schema checks need the reference folder (api.json, schemas/)');
    finish(1, 'no reference');
    return;
  }
  if (!fs.existsSync(path.join(refDir, 'api.json')) || !fs.existsSync(path.join(refDir, 'schemas'))) {
    finish(1, `ACCOUNTD_REFERENCE_DIR (${refDir}) holds no api.json and schemas/`);
    return;
  }
  const reference = new Reference(refDir);
  const limit = Number(process.env.ACCOUNTD_CONFORMANCE_TIMEOUT || 120);
  setTimeout(() => finish(1, `the scenario took longer than ${limit} s`), limit * 1000);

  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'accountd-conformance-'));
  const bin = binary(tmp);
  const db = path.join(tmp, 'c.db');

  // A usage key for POST /usage/events: the server gets a file with one
  // line "NAME SHA256HEX" (the hash of the key), the steps the key itself.
  // accountd takes only keys in the form `accountd usage keygen` prints:
  // "auk_" and 32 random bytes in unpadded base64url.
  const usageKey = 'auk_' + crypto.randomBytes(32).toString('base64url');
  const usageKeysFile = path.join(tmp, 'usage-keys');
  fs.writeFileSync(usageKeysFile, `conformance ${crypto.createHash('sha256').update(usageKey).digest('hex')}\n`, { mode: 0o600 });

  const ctx = {
    ref: reference, users: {}, tokens: {}, ids: {}, auth: {},
    outbox: path.join(tmp, 'outbox'), githubClientID: GITHUB_CLIENT_ID, usageKey,
  };
  for (const g of GROUPS) {
    for (const [key, u] of Object.entries(g.users || {})) {
      ctx.users[key] = Object.assign({}, u, { id: createUser(bin, db, u) });
    }
  }

  github = new FakeGithub();
  await github.start();
  ctx.github = github;

  server = new Server(bin, db, path.join(tmp, 'server.log'));
  ctx.addr = await server.start([
    '--github-client-id', GITHUB_CLIENT_ID, '--github-client-secret', 'conformance-secret',
    '--github-auth-url', github.url + '/login/oauth/authorize',
    '--github-token-url', github.url + '/login/oauth/access_token',
    '--github-api-url', github.url,
    '--usage-keys-file', usageKeysFile,
    // steps/limits.js creates devices up to this limit and one more
    '--limit-user-devices', String(require('./steps/limits').DEVICE_LIMIT),
  ], 20000);
  const baseURL = `http://${ctx.addr}`;
  out(`accountd at ${baseURL}; reference ${path.basename(path.resolve(refDir))}/api.json; client losant-rest ${require('losant-rest/package.json').version}`);

  runner = new Runner({ reference, exchanger: new Exchanger(baseURL), ctx, out });
  for (const g of GROUPS) {
    await runner.runGroup(g.title, g.steps);
  }

  // Coverage: every operation the server describes should have a step.
  try {
    const doc = await (await fetch(baseURL + '/openapi.json', { signal: AbortSignal.timeout(10000) })).json();
    runner.uncovered = [];
    for (const [p, item] of Object.entries(doc.paths || {})) {
      for (const [method, op] of Object.entries(item)) {
        if (op && op.operationId && !runner.covers(method, p)) {
          runner.uncovered.push(`${op.operationId} (${method.toUpperCase()} ${p})`);
        }
      }
    }
    runner.uncovered.sort();
  } catch (err) {
    out(`note: could not read /openapi.json for the coverage list: ${err.message}`);
  }

  await server.stop();
  finish(0);
}

main().catch((err) => finish(1, `exception: ${err && err.stack || err}`));
process.on('unhandledRejection', (err) => finish(1, `unhandled rejection: ${err && err.stack || err}`));
