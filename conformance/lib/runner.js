'use strict';

// Runs steps: one request each, through the official client or plain HTTP,
// and judges the answer: the expected status, the reference schema for
// that action and status, what the official client made of it, and the
// step's own checks. One line per step; details under a failing one.
//
// A step is an object:
//   name     what it does, as printed
//   action   the reference action ("me.get", "userApiTokens.post", ...)
//   as       whose token to send: a key of ctx.tokens, a function of ctx,
//            or absent for none
//   client   (c, ctx) => promise: the call through losant-rest 2.8.1, or
//   http     (ctx) => { method, path, query, body, form, bare }: plain HTTP
//            with the client's headers (bare: none of them, for pages), or
//   assert   (ctx) => void: no request, a check on what earlier steps kept
//   expect   the status the server must answer, or an array of the
//            statuses it may answer (e.g. [401, 403] for a refusal)
//   page     true when the answer is an HTML page for a browser
//   check    (res, ctx) => void: more assertions (throw to fail); also
//            where a step keeps values for later ones (ctx.tokens, ctx.ids)
//   needed   later steps of its group make no sense without this one: on
//            failure the rest of the group is skipped (and failed)
//   known    a known server discrepancy: a failure is reported as KNOWN
//            and not counted; remove the mark once the server is fixed

const util = require('util');
const { CheckError } = require('./util');

class Runner {
  constructor({ reference, exchanger, ctx, out, timeoutMs }) {
    this.ref = reference;
    this.ex = exchanger;
    this.ctx = ctx;
    this.out = out || ((s) => process.stdout.write(s + '\n'));
    this.timeoutMs = timeoutMs || 15000;
    this.passed = 0;
    this.failed = 0;
    this.known = [];
    this.fixed = [];
    this.failures = [];
    this.undocumented = new Map(); // "action status" -> note, for the summary
    this.unchecked = new Set(); // actions without a reference schema
    this.actions = new Set(); // actions exercised
    this.requests = []; // [method, path] of every request sent, for coverage
  }

  async runGroup(title, steps) {
    this.out(`# ${title}`);
    let skipping = null;
    for (const step of steps) {
      if (skipping) {
        this.report(step, null, [`skipped: "${skipping}" failed`], [], 'skip');
        continue;
      }
      const blocked = await this.run(step);
      if (blocked && step.needed) { skipping = step.name; }
    }
  }

  // run runs one step and reports it. It returns true when the step did
  // not get the answer it expected (wrong status, no answer, or its own
  // check failed), so that what later steps need from it may be missing; a
  // right status with a body the reference refuses fails the step but does
  // not block the steps after it.
  async run(step) {
    this.actions.add(step.action);
    const problems = [];
    const notes = [];
    let res = null;
    let blocked = false;
    try {
      const token = typeof step.as === 'function' ? step.as(this.ctx) : (step.as ? this.ctx.tokens[step.as] : undefined);
      if (step.as && !token) { throw new CheckError(`no token for ${typeof step.as === 'string' ? step.as : 'this step'}`); }
      if (step.assert) {
        const extra = await step.assert(this.ctx);
        if (typeof extra === 'string') { notes.push(extra); }
        this.report(step, null, problems, notes);
        return false;
      }
      if (step.client) {
        res = await this.ex.viaClient((c) => step.client(c, this.ctx), token, this.timeoutMs);
      } else {
        const r = step.http(this.ctx);
        res = await this.ex.viaHTTP(Object.assign({}, r, { token: r.token || token }), this.timeoutMs);
      }
      if (res.request) {
        this.requests.push([res.request.method, new URL(res.request.url, 'http://x').pathname]);
      }
      this.judge(step, res, problems, notes);
      if (res.transportError || !expects(step, res.status)) {
        blocked = true;
      } else if (step.check) {
        blocked = true; // until the check returns
        const extra = await step.check(res, this.ctx);
        blocked = false;
        if (typeof extra === 'string') { notes.push(extra); }
      }
    } catch (err) {
      blocked = true;
      problems.push(err instanceof CheckError ? err.message : `exception: ${err && err.stack || err}`);
    }
    this.report(step, res, problems, notes);
    return blocked;
  }

  judge(step, res, problems, notes) {
    if (res.transportError) {
      problems.push(`no HTTP answer: ${res.transportError}`);
      return;
    }
    if (!expects(step, res.status)) {
      problems.push(`status ${res.status}, expected ${[].concat(step.expect).join(' or ')}`);
    }
    // The request itself, when it is meant to succeed, must be one the
    // reference allows: otherwise the scenario, not the server, is wrong.
    if (Math.max(...[].concat(step.expect)) < 300 && res.request && res.request.body !== undefined && !step.page) {
      const schema = this.ref.requestSchema(step.action);
      if (schema) {
        const why = this.ref.validate(schema, res.request.body);
        if (why) { problems.push(`the scenario sent a body ${schema}.json refuses (fix the step): ${why}`); }
      }
    }
    if (step.page) {
      if (!/^text\/html/i.test(res.contentType || '')) {
        problems.push(`Content-Type ${JSON.stringify(res.contentType)}, expected an HTML page`);
      }
      notes.push('browser page: status and Content-Type checked');
      this.unchecked.add(step.action);
    } else {
      const c = this.ref.check(step.action, res.status, res.body, res.isJSON);
      if (!c.ok) { problems.push(c.problem); }
      for (const n of c.notes) {
        notes.push(n);
        if (/not in the reference for/.test(n)) { this.undocumented.set(`${step.action} ${res.status}`, n); }
        if (/^action not in the reference/.test(n)) { this.unchecked.add(step.action); }
      }
      if (c.schema) { notes.unshift(`${c.schema}.json`); }
    }
    if (res.via === 'client') { this.judgeClient(res, problems); }
  }

  // judgeClient checks that the official client made sense of the answer:
  // a result on success, an error carrying the status, type and message
  // otherwise.
  judgeClient(res, problems) {
    const ok = res.status >= 200 && res.status < 300;
    if (ok && res.clientError) {
      problems.push(`the client failed on a ${res.status}: ${res.clientError.message}`);
    } else if (ok && !util.isDeepStrictEqual(res.clientResult, res.body)) {
      problems.push('the client returned something other than the response body');
    } else if (!ok) {
      const e = res.clientError;
      if (!e) {
        problems.push(`the client did not fail on a ${res.status}`);
      } else if (res.isJSON) {
        if (e.statusCode !== res.status) { problems.push(`client error statusCode ${e.statusCode}, answer ${res.status}`); }
        if (e.message !== res.body.message) { problems.push(`client error message ${JSON.stringify(e.message)}, body ${JSON.stringify(res.body.message)}`); }
        if (e.type !== res.body.type) { problems.push(`client error type ${JSON.stringify(e.type)}, body ${JSON.stringify(res.body.type)}`); }
      }
    }
  }

  // covers says whether some request went to method and path template
  // (OpenAPI style, with {param} segments).
  covers(method, template) {
    const parts = template.split(/\{[^/}]+\}/).map((x) => x.replace(/[.*+?^$()|[\]\\]/g, '\\$&'));
    const re = new RegExp('^' + parts.join('[^/]+') + '$');
    return this.requests.some(([m, p]) => m === method.toUpperCase() && re.test(p));
  }

  report(step, res, problems, notes, mode) {
    const status = res ? (res.status || '---') : (step.assert ? '-' : '---');
    const via = step.client ? 'client' : (step.assert ? 'check' : 'http');
    const head = `${step.action} ${status} [${via}] ${step.name}`;
    if (problems.length === 0) {
      this.passed++;
      if (step.known) {
        this.fixed.push(`${step.action}: ${step.name}`);
        notes.push('passes now: remove its "known" mark');
      }
      this.out(`ok   ${head}${notes.length ? ' — ' + notes.join('; ') : ''}`);
      return true;
    }
    if (step.known && mode !== 'skip') {
      this.known.push(`${step.action}: ${step.name} (${step.known})`);
      this.out(`KNOWN ${head} — ${problems.join('; ')} [known: ${step.known}]`);
      return false;
    }
    this.failed++;
    this.failures.push(`${head}: ${problems.join('; ')}`);
    this.out(`FAIL ${head} — ${problems.join('; ')}`);
    if (res && mode !== 'skip') { this.out(detail(res)); }
    return false;
  }
}

// expects says whether status is one the step expects.
function expects(step, status) {
  return [].concat(step.expect).includes(status);
}

// detail shows the exchange under a failed step.
function detail(res) {
  const lines = [];
  if (res.request) {
    const q = res.request.query ? '?' + new URLSearchParams(res.request.query).toString() : '';
    lines.push(`  request:  ${res.request.method} ${res.request.url}${res.via === 'client' ? q : ''}`);
    const auth = res.request.headers && (res.request.headers.Authorization || res.request.headers.authorization);
    if (auth) { lines.push(`            Authorization: Bearer ${auth.slice(7, 19)}...`); }
    if (res.request.body !== undefined) { lines.push(`            ${clip(JSON.stringify(res.request.body))}`); }
  }
  if (res.status) {
    lines.push(`  response: ${res.status} ${res.contentType || ''}`);
    lines.push(`            ${clip(typeof res.body === 'string' ? res.body : JSON.stringify(res.body))}`);
  }
  return lines.join('\n');
}

function clip(s) {
  s = String(s);
  return s.length > 600 ? s.slice(0, 600) + '...' : s;
}

module.exports = { Runner };
