'use strict';

// Usage metering: a fresh user makes an application with two devices and
// sends device states (device.sendState through the official client); a
// platform service reports MQTT payloads and notebook runs with a usage key
// (POST /usage/events, plain HTTP); the user reads it all back through
// me.payloadCounts, me.payloadCountsBreakdown, me.notebookMinuteCounts,
// me.deviceCounts and the payloadCount summary of me.get. Usage of an
// organization's application (states and reports) must not show up: the
// me.* queries cover the applications the user owns directly.
//
// Client 2.8.1 has me.payloadCounts (without asBytes), but not
// me.payloadCountsBreakdown, me.deviceCounts or me.notebookMinuteCounts:
// those go through the client's own generic client.request (same axios,
// headers and error handling as its actions), with the query flags its
// actions add. POST /usage/events is not a Losant action: it is sent bare,
// as a platform service would, with the usage key the scenario configured
// (ctx.usageKey, --usage-keys-file).
//
// The server answers for the day it runs on, so every range is explicit and
// computed from Date.now() in UTC around the requests (a run that crosses
// midnight UTC still has a well-defined answer). What the steps recorded is
// kept in ctx.u (a ledger of payloads and notebook minutes), and the
// queries are checked against it.

const crypto = require('crypto');
const util = require('util');
const { CheckError, assert, assertEq, assertMentions, sleep } = require('../lib/util');

const uma = { email: 'uma@example.com', password: 'Usage-Metering-2024', firstName: 'Uma', verified: true };

const UNKNOWN_ID = '0123456789abcdef01234567';
const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;

// payloadStats.json, in its order; the non-billable ones (left out of the
// breakdown unless includeNonBillable=true).
const TYPES = ['appFile', 'dataTable', 'deviceCreate', 'deviceCommand', 'deviceConnect', 'deviceDisconnect',
  'deviceState', 'endpoint', 'event', 'flowError', 'inboundEmail', 'integration', 'mqttIn',
  'mqttOut', 'notebook', 'resourceJob', 'timer', 'virtualButton', 'webhook'];
const NON_BILLABLE = new Set(['deviceConnect', 'deviceDisconnect', 'flowError']);

const hourStart = (ms) => Math.floor(ms / HOUR) * HOUR;
const dayStart = (ms) => Math.floor(ms / DAY) * DAY;
const monthStart = (ms) => { const d = new Date(ms); return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1); };
const iso = (ms) => new Date(ms).toISOString();

// What the client's actions add to every query.
const QUERY_FLAGS = { _actions: false, _links: true, _embedded: true };

// query calls a GET action client 2.8.1 lacks (or a parameter it drops,
// like payloadCounts' asBytes) through the client's generic request.
const query = (c, url, params) => c.request({ method: 'GET', url, params: Object.assign({}, QUERY_FLAGS, params || {}) });

// bytes is the size of a state's compact JSON, as the client sends it.
const bytes = (state) => Buffer.byteLength(JSON.stringify(state), 'utf8');

// bytesStep checks payloadCounts with asBytes=true against the ledger.
const bytesStep = (name) => ({
  name,
  action: 'me.payloadCounts',
  as: 'uma',
  client: (c, ctx) => query(c, '/me/payloadCounts', { start: String(ctx.u.t0), end: String(Date.now()), asBytes: 'true' }),
  expect: 200,
  check: (res, ctx) => checkStats(res.body, stats(ctx.u, true), 'payloadCounts asBytes'),
});

// assertSame compares deeply, whatever the order of the keys.
function assertSame(got, want, what) {
  if (!util.isDeepStrictEqual(got, want)) {
    throw new CheckError(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  }
}

// --- The ledger of what the steps recorded.

function newLedger() {
  return { t0: Date.now(), payloads: {}, notebook: {}, runID: crypto.randomBytes(6).toString('hex') };
}

function addPayload(u, type, source, count, size) {
  const t = (u.payloads[type] = u.payloads[type] || {});
  const s = (t[source] = t[source] || { count: 0, bytes: 0 });
  s.count += count;
  s.bytes += size;
}

function addNotebookRun(u, time, minutes, status) {
  const d = dayStart(time);
  const n = (u.notebook[d] = u.notebook[d] || { minutes: 0, completed: 0, canceled: 0, errored: 0, timeout: 0 });
  n.minutes += Math.ceil(minutes);
  n[status] += 1;
}

// stats is the payloadStats answer the ledger calls for: every type, each
// source -> count (or bytes).
function stats(u, asBytes) {
  const out = {};
  for (const t of TYPES) {
    out[t] = {};
    for (const [src, v] of Object.entries(u.payloads[t] || {})) { out[t][src] = asBytes ? v.bytes : v.count; }
  }
  return out;
}

function total(u, { asBytes, nonBillable }) {
  let n = 0;
  for (const [t, sources] of Object.entries(u.payloads)) {
    if (!nonBillable && NON_BILLABLE.has(t)) { continue; }
    for (const v of Object.values(sources)) { n += asBytes ? v.bytes : v.count; }
  }
  return n;
}

// --- Checks of the answers.

// checkStats compares a payloadStats answer with the ledger: all 19 types,
// nothing else.
function checkStats(body, want, what) {
  assertEq(Object.keys(body).sort(), [...TYPES].sort(), `${what}: payload types`);
  for (const t of TYPES) { assertSame(body[t], want[t], `${what}: ${t}`); }
}

// buckets checks a series answer ({start, end, counts: [{date, ...}]}):
// one entry per bucket of size step from the one holding from through the
// one holding to (to may be a list of candidates, for a range that ends at
// the server's "now"), in order; it returns the entries.
function buckets(body, from, to, step) {
  const first = Math.floor(from / step) * step;
  const lasts = [].concat(to).map((t) => Math.floor(t / step) * step);
  assert(Array.isArray(body.counts), 'no counts array');
  const last = first + (body.counts.length - 1) * step;
  assert(lasts.includes(last), `${body.counts.length} buckets from ${iso(first)}, the last at ${iso(last)}; want the last at ${lasts.map(iso).join(' or ')}`);
  body.counts.forEach((c, i) => assertEq(c.date, iso(first + i * step), `counts[${i}].date`));
  assertEq([body.start, body.end], [iso(first), iso(last + step - 1)], 'start, end');
  return body.counts;
}

const sum = (list, key) => list.reduce((n, c) => n + c[key], 0);

// validation checks a 400 answer: type Validation, message naming field.
const validation = (field) => (res) => {
  errorShape(res);
  assertEq(res.body.type, 'Validation', 'error type');
  if (field) { assertMentions(res.body, field); }
};

// summaryMatches checks me.get's summary.payloadCount against the ledger
// (this UTC month so far: not compared if the run crossed into a new one).
function summaryMatches(res, ctx) {
  if (monthStart(ctx.u.t0) !== monthStart(Date.now())) {
    return 'the run crossed into a new UTC month: the summary\'s counts were not compared';
  }
  assert(res.body.summary && res.body.summary.payloadCount, 'no summary.payloadCount');
  checkStats(res.body.summary.payloadCount, stats(ctx.u), 'summary.payloadCount');
  return undefined;
}

// accountd keeps a GET /me view for at most a second (service/meview.go,
// meViewTTL); a user's own writes drop it at once.
const ME_VIEW_TTL = 1000;

// --- Usage events.

const evID = (u, n) => `conformance-${u.runID}-${n}`;

function firstBatch(u, time) {
  return [
    { id: evID(u, 1), kind: 'payload', time, applicationId: u.app, type: 'mqttIn', source: 'mqtt', count: 3, bytes: 120 },
    { id: evID(u, 2), kind: 'payload', time, applicationId: u.app, type: 'mqttIn', source: 'mqtt' }, // count 1, bytes 0 by default
    { id: evID(u, 3), kind: 'payload', time, applicationId: u.app, type: 'deviceConnect', source: 'mqtt', count: 2, bytes: 10 },
    { id: evID(u, 4), kind: 'notebookRun', time, applicationId: u.app, minutes: 2.5, status: 'completed' }, // 3 minutes
    { id: evID(u, 5), kind: 'notebookRun', time, applicationId: u.app, minutes: 0.2, status: 'errored' }, // 1 minute
  ];
}

function record(u, events) {
  for (const e of events) {
    if (e.kind === 'payload') {
      addPayload(u, e.type, e.source, e.count === undefined ? 1 : e.count, e.bytes || 0);
    } else {
      addNotebookRun(u, e.time, e.minutes, e.status);
    }
  }
}

const ingest = (events, token) => (ctx) => ({
  method: 'POST', path: '/usage/events', bare: true,
  token: token === undefined ? ctx.usageKey : token,
  body: { events: typeof events === 'function' ? events(ctx.u) : events },
});

function ingestAnswer(res, received, recorded) {
  assert(res.isJSON, 'the answer is not JSON');
  assertSame(res.body, { received, recorded, duplicates: received - recorded }, 'answer');
}

const USAGE_NOTE = 'not a Losant action: status, answer and error shape checked here';

// --- Device states.

function singleState() {
  return { data: { temperature: 21.5, unit: '°C', on: true } };
}

function stateArray() {
  const now = Date.now();
  return [
    { data: { temperature: 22, humidity: 40.25 }, time: iso(now) },
    { data: { status: 'ok', level: -3 }, time: now, meta: { by: 'conformance', seq: [1, 2] } },
    { data: { on: false }, time: { $date: iso(now) }, flowVersion: 'develop' },
  ];
}

const sendState = (device, make) => (c, ctx) => {
  ctx.u.sent = make();
  return c.device.sendState({ applicationId: ctx.u.app, deviceId: ctx.u[device], deviceState: ctx.u.sent });
};

const stateSent = (res, ctx) => {
  assertEq(res.body, { success: true }, 'body');
  for (const s of [].concat(ctx.u.sent)) { addPayload(ctx.u, 'deviceState', 'rest', 1, bytes(s)); }
};

// --- Queries over ranges around now.

// counts: me.payloadCounts from the group's start to now, through the client.
const countsNow = (c, ctx) => c.me.payloadCounts({ start: String(ctx.u.t0), end: String(Date.now()) });

module.exports = {
  title: 'usage metering (device.sendState, me.payloadCounts, me.payloadCountsBreakdown, me.deviceCounts, me.notebookMinuteCounts, me.get summary payloadCount, POST /usage/events)',
  users: { uma },
  steps: [
    {
      name: 'log in as uma',
      action: 'auth.authenticateUser',
      client: (c, ctx) => {
        ctx.u = newLedger();
        return c.auth.authenticateUser({ credentials: { email: ctx.users.uma.email, password: ctx.users.uma.password } });
      },
      expect: 200,
      needed: true,
      check: (res, ctx) => { ctx.tokens.uma = res.body.token; },
    },
    {
      name: 'a token scoped to all.User.read',
      action: 'userApiTokens.post',
      as: 'uma',
      client: (c) => c.userApiTokens.post({ apiToken: { name: 'usage reader', scope: ['all.User.read'] } }),
      expect: 201,
      check: (res, ctx) => { ctx.tokens.umaRead = res.body.token; },
    },
    {
      name: 'a token scoped to me.get',
      action: 'userApiTokens.post',
      as: 'uma',
      client: (c) => c.userApiTokens.post({ apiToken: { name: 'profile only', scope: ['me.get'] } }),
      expect: 201,
      check: (res, ctx) => { ctx.tokens.umaGet = res.body.token; },
    },
    {
      name: 'nothing used yet: every payload type is {}',
      action: 'me.payloadCounts',
      as: 'uma',
      client: countsNow,
      expect: 200,
      check: (res, ctx) => checkStats(res.body, stats(ctx.u), 'payloadCounts'),
    },
    {
      name: 'create an application',
      action: 'applications.post',
      as: 'uma',
      client: (c) => c.applications.post({ application: { name: 'Usage App', description: 'metered' } }),
      expect: 201,
      needed: true,
      check: (res, ctx) => {
        assertEq([res.body.ownerType, res.body.ownerId], ['user', ctx.users.uma.id], 'owner');
        ctx.u.app = res.body.id;
      },
    },
    {
      name: 'add device A',
      action: 'devices.post',
      as: 'uma',
      client: (c, ctx) => c.devices.post({ applicationId: ctx.u.app, device: { name: 'Meter A', deviceClass: 'standalone' } }),
      expect: 201,
      needed: true,
      check: (res, ctx) => { ctx.u.devA = res.body.id; },
    },
    {
      name: 'add device B',
      action: 'devices.post',
      as: 'uma',
      client: (c, ctx) => c.devices.post({ applicationId: ctx.u.app, device: { name: 'Meter B', deviceClass: 'standalone' } }),
      expect: 201,
      needed: true,
      check: (res, ctx) => { ctx.u.devB = res.body.id; },
    },
    {
      name: 'send one state to device A',
      action: 'device.sendState',
      as: 'uma',
      client: sendState('devA', singleState),
      expect: 200,
      check: stateSent,
    },
    {
      name: 'send an array of three states (time as ISO string, number and {$date}) to device B',
      action: 'device.sendState',
      as: 'uma',
      client: sendState('devB', stateArray),
      expect: 200,
      check: stateSent,
    },
    {
      name: 'create an organization (its applications are not uma\'s own)',
      action: 'orgs.post',
      as: 'uma',
      client: (c) => c.orgs.post({ organization: { name: 'Usage Org' } }),
      expect: 201,
      check: (res, ctx) => { ctx.u.org = res.body.id; },
    },
    {
      name: 'create an application in the organization',
      action: 'applications.post',
      as: 'uma',
      client: (c, ctx) => c.applications.post({ application: { name: 'Org Usage App', orgId: ctx.u.org } }),
      expect: 201,
      check: (res, ctx) => {
        assertEq([res.body.ownerType, res.body.ownerId], ['organization', ctx.u.org], 'owner');
        ctx.u.orgApp = res.body.id;
      },
    },
    {
      name: 'add a device to the organization\'s application',
      action: 'devices.post',
      as: 'uma',
      client: (c, ctx) => c.devices.post({ applicationId: ctx.u.orgApp, device: { name: 'Org Meter', deviceClass: 'standalone' } }),
      expect: 201,
      check: (res, ctx) => { ctx.u.orgDev = res.body.id; },
    },
    {
      name: 'send a state to the organization\'s device (counted for the organization, not for uma)',
      action: 'device.sendState',
      as: 'uma',
      client: (c, ctx) => c.device.sendState({ applicationId: ctx.u.orgApp, deviceId: ctx.u.orgDev, deviceState: singleState() }),
      expect: 200,
      check: (res) => assertEq(res.body, { success: true }, 'body'),
    },
    {
      name: 'send a state to a device that does not exist',
      action: 'device.sendState',
      as: 'uma',
      client: (c, ctx) => c.device.sendState({ applicationId: ctx.u.app, deviceId: UNKNOWN_ID, deviceState: singleState() }),
      expect: 404,
      check: errorShape,
    },
    {
      name: 'send a state to an application that does not exist',
      action: 'device.sendState',
      as: 'uma',
      client: (c, ctx) => c.device.sendState({ applicationId: UNKNOWN_ID, deviceId: ctx.u.devA, deviceState: singleState() }),
      expect: 404,
      check: errorShape,
    },
    {
      name: 'send a state with a malformed data key (400)',
      action: 'device.sendState',
      as: 'uma',
      client: (c, ctx) => c.device.sendState({ applicationId: ctx.u.app, deviceId: ctx.u.devA, deviceState: { data: { 'bad key!': 1 } } }),
      expect: 400,
      check: validation(),
    },
    {
      name: 'send a state with an unparseable time (400)',
      action: 'device.sendState',
      as: 'uma',
      client: (c, ctx) => c.device.sendState({ applicationId: ctx.u.app, deviceId: ctx.u.devA, deviceState: { data: { x: 1 }, time: 'half past never' } }),
      expect: 400,
      check: validation(),
    },
    {
      name: 'an all.User.read token may not send state',
      action: 'device.sendState',
      as: 'umaRead',
      client: (c, ctx) => c.device.sendState({ applicationId: ctx.u.app, deviceId: ctx.u.devA, deviceState: singleState() }),
      expect: 403,
      check: errorShape,
    },
    {
      name: 'payload counts: deviceState.rest is the number of states sent to uma\'s own devices (the refused ones not counted)',
      action: 'me.payloadCounts',
      as: 'uma',
      client: countsNow,
      expect: 200,
      check: (res, ctx) => {
        assertEq(res.body.deviceState, { rest: 4 }, 'deviceState');
        checkStats(res.body, stats(ctx.u), 'payloadCounts');
      },
    },
    bytesStep('payload counts asBytes=true (client.request: 2.8.1 drops asBytes): the compact JSON sizes of the states'),
    {
      name: 'payload counts for a day before the group started (3 to 2 days back): every type {}',
      action: 'me.payloadCounts',
      as: 'uma',
      client: (c, ctx) => c.me.payloadCounts({ start: String(dayStart(ctx.u.t0) - 3 * DAY), end: String(dayStart(ctx.u.t0) - 2 * DAY) }),
      expect: 200,
      check: (res) => checkStats(res.body, stats({ payloads: {} }), 'payloadCounts'),
    },
    {
      name: 'me with summaryInclude=payloadCount: this month\'s counts',
      action: 'me.get',
      as: 'uma',
      client: (c) => c.me.get({ summaryInclude: 'payloadCount' }),
      expect: 200,
      check: (res, ctx) => {
        assertEq(Object.keys(res.body.summary || {}), ['payloadCount'], 'summary fields');
        if (monthStart(ctx.u.t0) !== monthStart(Date.now())) {
          return 'the run crossed into a new UTC month: the summary\'s counts were not compared';
        }
        checkStats(res.body.summary.payloadCount, stats(ctx.u), 'summary.payloadCount');
        return undefined;
      },
    },
    // --- POST /usage/events
    {
      name: 'report usage without a key',
      action: 'usage.record',
      http: ingest((u) => firstBatch(u, Date.now()), null),
      expect: 401,
      check: (res) => { errorShape(res); return USAGE_NOTE; },
    },
    {
      name: 'report usage with a wrong key',
      action: 'usage.record',
      http: ingest((u) => firstBatch(u, Date.now()), 'auk_' + crypto.randomBytes(32).toString('base64url')),
      expect: 401,
      check: (res) => { errorShape(res); return USAGE_NOTE; },
    },
    {
      name: 'report usage with uma\'s own (all.User) token: refused',
      action: 'usage.record',
      http: ingest((u) => firstBatch(u, Date.now()), ''),
      as: 'uma',
      expect: [401, 403],
      check: (res) => { errorShape(res); return USAGE_NOTE; },
    },
    {
      name: 'report 2 mqttIn payload events (one with defaults), a deviceConnect and 2 notebook runs (completed, errored)',
      action: 'usage.record',
      http: (ctx) => {
        ctx.u.ingestAt = Date.now();
        ctx.u.lastReportAt = ctx.u.ingestAt;
        ctx.u.batch = firstBatch(ctx.u, ctx.u.ingestAt);
        return ingest(ctx.u.batch)(ctx);
      },
      expect: 200,
      check: (res, ctx) => {
        ingestAnswer(res, 5, 5);
        record(ctx.u, ctx.u.batch);
        return USAGE_NOTE;
      },
    },
    {
      name: 'report the same batch again: all duplicates',
      action: 'usage.record',
      http: (ctx) => ingest(ctx.u.batch)(ctx),
      expect: 200,
      check: (res) => { ingestAnswer(res, 5, 0); return USAGE_NOTE; },
    },
    {
      name: 'a batch with a new valid event and an unknown payload type: 400 naming events[1].type, nothing recorded',
      action: 'usage.record',
      http: ingest((u) => [
        { id: evID(u, 7), kind: 'payload', time: u.ingestAt, applicationId: u.app, type: 'mqttIn', source: 'mqtt', count: 5, bytes: 50 },
        { id: evID(u, 8), kind: 'payload', time: u.ingestAt, applicationId: u.app, type: 'carrierPigeon', source: 'coop' },
      ]),
      expect: 400,
      check: (res) => { validation('events[1].type')(res); return USAGE_NOTE; },
    },
    {
      name: 'a batch for an application that does not exist: 400 naming events[0].applicationId',
      action: 'usage.record',
      http: ingest((u) => [
        { id: evID(u, 9), kind: 'payload', time: u.ingestAt, applicationId: UNKNOWN_ID, type: 'mqttIn', source: 'mqtt' },
      ]),
      expect: 400,
      check: (res) => { validation('events[0].applicationId')(res); return USAGE_NOTE; },
    },
    {
      name: 'a notebook run with an unknown status: 400 naming events[0].status',
      action: 'usage.record',
      http: ingest((u) => [
        { id: evID(u, 10), kind: 'notebookRun', time: u.ingestAt, applicationId: u.app, minutes: 1, status: 'napping' },
      ]),
      expect: 400,
      check: (res) => { validation('events[0].status')(res); return USAGE_NOTE; },
    },
    {
      name: 'an empty batch (400 names events)',
      action: 'usage.record',
      http: ingest([]),
      expect: 400,
      check: (res) => { validation('events')(res); return USAGE_NOTE; },
    },
    {
      name: 'report a payload of the organization\'s application (not uma\'s usage)',
      action: 'usage.record',
      http: ingest((u) => [
        { id: evID(u, 11), kind: 'payload', time: u.ingestAt, applicationId: u.orgApp, type: 'mqttIn', source: 'mqtt', count: 1000 },
      ]),
      expect: 200,
      check: (res) => { ingestAnswer(res, 1, 1); return USAGE_NOTE; },
    },
    {
      name: 'me summary payloadCount a second after the first reports (the longest a cached GET /me view lives)',
      action: 'me.get',
      as: 'uma',
      client: async (c, ctx) => {
        await sleep(ctx.u.lastReportAt + ME_VIEW_TTL + 100 - Date.now());
        return c.me.get({ summaryInclude: 'payloadCount' });
      },
      expect: 200,
      check: summaryMatches,
    },
    {
      name: 'the valid event of the refused batch alone: recorded now, so it was not before',
      action: 'usage.record',
      http: (ctx) => {
        ctx.u.lastReportAt = Date.now();
        ctx.u.beforeLast = stats(ctx.u);
        ctx.u.batch7 = [{ id: evID(ctx.u, 7), kind: 'payload', time: ctx.u.ingestAt, applicationId: ctx.u.app, type: 'mqttIn', source: 'mqtt', count: 5, bytes: 50 }];
        return ingest(ctx.u.batch7)(ctx);
      },
      expect: 200,
      check: (res, ctx) => {
        ingestAnswer(res, 1, 1);
        record(ctx.u, ctx.u.batch7);
        return USAGE_NOTE;
      },
    },
    {
      name: 'me summary payloadCount at once after the last report: now, or a view from before it (at most a second old)',
      action: 'me.get',
      as: 'uma',
      client: (c) => c.me.get({ summaryInclude: 'payloadCount' }),
      expect: 200,
      check: (res, ctx) => {
        if (monthStart(ctx.u.t0) !== monthStart(Date.now())) {
          return 'the run crossed into a new UTC month: the summary\'s counts were not compared';
        }
        const got = res.body.summary && res.body.summary.payloadCount;
        assert(got, 'no summary.payloadCount');
        if (util.isDeepStrictEqual(got, ctx.u.beforeLast)) {
          return 'a cached view from before the last report: a report does not drop the owner\'s GET /me views';
        }
        checkStats(got, stats(ctx.u), 'summary.payloadCount');
        return undefined;
      },
    },
    // --- Reading the usage back.
    {
      name: 'payload counts: mqttIn.mqtt and deviceConnect.mqtt from the reports, deviceState.rest unchanged',
      action: 'me.payloadCounts',
      as: 'uma',
      client: countsNow,
      expect: 200,
      check: (res, ctx) => {
        assertEq([res.body.mqttIn, res.body.deviceConnect, res.body.deviceState], [{ mqtt: 9 }, { mqtt: 2 }, { rest: 4 }], 'mqttIn, deviceConnect, deviceState');
        checkStats(res.body, stats(ctx.u), 'payloadCounts');
      },
    },
    bytesStep('payload counts asBytes=true after the reports'),
    {
      name: 'payload counts with start = end = the reports\' time: the whole hour around it',
      action: 'me.payloadCounts',
      as: 'uma',
      client: (c, ctx) => c.me.payloadCounts({ start: String(ctx.u.ingestAt), end: String(ctx.u.ingestAt) }),
      expect: 200,
      check: (res, ctx) => {
        const want = stats(ctx.u);
        assertEq([res.body.mqttIn, res.body.deviceConnect], [want.mqttIn, want.deviceConnect], 'mqttIn, deviceConnect');
        assert(res.body.deviceState.rest === undefined || res.body.deviceState.rest <= want.deviceState.rest, 'more deviceState than sent');
      },
    },
    {
      name: 'me summary payloadCount a second after the last report',
      action: 'me.get',
      as: 'uma',
      client: async (c, ctx) => {
        await sleep(ctx.u.lastReportAt + ME_VIEW_TTL + 100 - Date.now());
        return c.me.get({ summaryInclude: 'payloadCount' });
      },
      expect: 200,
      check: summaryMatches,
    },
    {
      name: 'breakdown by day (default resolution) from 3 days before: zeros, then the billable payloads',
      action: 'me.payloadCountsBreakdown',
      as: 'uma',
      client: (c, ctx) => {
        ctx.u.q = { start: dayStart(ctx.u.t0) - 3 * DAY, end: Date.now() };
        return query(c, '/me/payloadCountsBreakdown', { start: String(ctx.u.q.start), end: String(ctx.u.q.end) });
      },
      expect: 200,
      check: (res, ctx) => {
        const counts = buckets(res.body, ctx.u.q.start, ctx.u.q.end, DAY);
        assertEq(counts.slice(0, 3).map((x) => x.value), [0, 0, 0], 'the three days before');
        assertEq(sum(counts, 'value'), total(ctx.u, {}), 'sum of values (billable: deviceConnect left out)');
      },
    },
    {
      name: 'breakdown by day with includeNonBillable=true',
      action: 'me.payloadCountsBreakdown',
      as: 'uma',
      client: (c, ctx) => {
        ctx.u.q = { start: dayStart(ctx.u.t0) - 3 * DAY, end: Date.now() };
        return query(c, '/me/payloadCountsBreakdown', { start: String(ctx.u.q.start), end: String(ctx.u.q.end), resolution: '86400000', includeNonBillable: 'true' });
      },
      expect: 200,
      check: (res, ctx) => {
        const counts = buckets(res.body, ctx.u.q.start, ctx.u.q.end, DAY);
        assertEq(sum(counts, 'value'), total(ctx.u, { nonBillable: true }), 'sum of values (deviceConnect included)');
      },
    },
    {
      name: 'breakdown by hour (resolution 3600000, includeNonBillable) from 5 hours before',
      action: 'me.payloadCountsBreakdown',
      as: 'uma',
      client: (c, ctx) => {
        ctx.u.q = { start: hourStart(ctx.u.t0) - 5 * HOUR, end: Date.now() };
        return query(c, '/me/payloadCountsBreakdown', { start: String(ctx.u.q.start), end: String(ctx.u.q.end), resolution: '3600000', includeNonBillable: 'true' });
      },
      expect: 200,
      check: (res, ctx) => {
        const counts = buckets(res.body, ctx.u.q.start, ctx.u.q.end, HOUR);
        assertEq(counts.slice(0, 5).map((x) => x.value), [0, 0, 0, 0, 0], 'the five hours before');
        assertEq(sum(counts, 'value'), total(ctx.u, { nonBillable: true }), 'sum of values');
      },
    },
    {
      name: 'breakdown by day asBytes=true',
      action: 'me.payloadCountsBreakdown',
      as: 'uma',
      client: (c, ctx) => {
        ctx.u.q = { start: dayStart(ctx.u.t0) - DAY, end: Date.now() };
        return query(c, '/me/payloadCountsBreakdown', { start: String(ctx.u.q.start), end: String(ctx.u.q.end), asBytes: 'true' });
      },
      expect: 200,
      check: (res, ctx) => {
        const counts = buckets(res.body, ctx.u.q.start, ctx.u.q.end, DAY);
        assertEq(sum(counts, 'value'), total(ctx.u, { asBytes: true }), 'sum of values (billable bytes)');
      },
    },
    {
      name: 'breakdown with no range: this UTC month so far, by day',
      action: 'me.payloadCountsBreakdown',
      as: 'uma',
      client: (c, ctx) => {
        ctx.u.before = Date.now();
        return query(c, '/me/payloadCountsBreakdown');
      },
      expect: 200,
      check: (res, ctx) => {
        const after = Date.now();
        const from = monthStart(ctx.u.before);
        if (from !== monthStart(after)) { return 'the request crossed into a new UTC month: not compared'; }
        const counts = buckets(res.body, from, [ctx.u.before, after], DAY);
        if (monthStart(ctx.u.t0) === from) {
          assertEq(sum(counts, 'value'), total(ctx.u, {}), 'sum of values');
        }
        return undefined;
      },
    },
    {
      name: 'notebook minutes from the day before the reports: minutes rounded up, completed and errored on the reports\' day',
      action: 'me.notebookMinuteCounts',
      as: 'uma',
      client: (c, ctx) => {
        ctx.u.q = { start: dayStart(ctx.u.ingestAt) - DAY, end: Date.now() };
        return query(c, '/me/notebookMinuteCounts', { start: String(ctx.u.q.start), end: String(ctx.u.q.end) });
      },
      expect: 200,
      check: (res, ctx) => {
        const counts = buckets(res.body, ctx.u.q.start, ctx.u.q.end, DAY);
        const zero = { minutes: 0, completed: 0, canceled: 0, errored: 0, timeout: 0 };
        assertSame(ctx.u.notebook[dayStart(ctx.u.ingestAt)], { minutes: 4, completed: 1, canceled: 0, errored: 1, timeout: 0 }, 'the ledger (fix the step)');
        counts.forEach((x, i) => {
          const want = Object.assign({ date: x.date }, ctx.u.notebook[dayStart(ctx.u.q.start) + i * DAY] || zero);
          assertSame(x, want, `counts[${i}]`);
        });
      },
    },
    {
      name: 'an all.User.read token reads notebook minutes',
      action: 'me.notebookMinuteCounts',
      as: 'umaRead',
      client: (c) => query(c, '/me/notebookMinuteCounts'),
      expect: 200,
    },
    {
      name: 'a me.get token may not read payload counts',
      action: 'me.payloadCounts',
      as: 'umaGet',
      client: (c) => c.me.payloadCounts(),
      expect: 403,
      check: errorShape,
    },
    // --- Errors, through the client where it has the action.
    {
      name: 'payload counts with start after end (400 Validation names start)',
      action: 'me.payloadCounts',
      as: 'uma',
      client: (c) => { const now = Date.now(); return c.me.payloadCounts({ start: String(now), end: String(now - HOUR) }); },
      expect: 400,
      check: validation('start'),
    },
    {
      name: "payload counts over me.md's example range (start=0, end=1465790400000): no limit on the span",
      action: 'me.payloadCounts',
      as: 'uma',
      client: (c) => c.me.payloadCounts({ start: '0', end: '1465790400000' }),
      expect: 200,
      check: (res) => assertEq(Object.keys(res.body).sort(), [...TYPES].sort(), 'payload types'),
    },
    {
      name: 'payload counts over exactly 366 days',
      action: 'me.payloadCounts',
      as: 'uma',
      client: (c) => { const now = Date.now(); return c.me.payloadCounts({ start: String(now - 366 * DAY), end: String(now) }); },
      expect: 200,
      check: (res, ctx) => checkStats(res.body, stats(ctx.u), 'payloadCounts'),
    },
    {
      name: 'payload counts with start=yesterday, not milliseconds (400 Validation names start)',
      action: 'me.payloadCounts',
      as: 'uma',
      client: (c) => c.me.payloadCounts({ start: 'yesterday' }),
      expect: 400,
      check: validation('start'),
    },
    {
      name: 'payload counts with asBytes=yes (400 Validation names asBytes)',
      action: 'me.payloadCounts',
      as: 'uma',
      client: (c) => query(c, '/me/payloadCounts', { asBytes: 'yes' }),
      expect: 400,
      check: validation('asBytes'),
    },
    {
      name: 'breakdown with resolution 1000 (400 Validation names resolution)',
      action: 'me.payloadCountsBreakdown',
      as: 'uma',
      client: (c) => query(c, '/me/payloadCountsBreakdown', { resolution: '1000' }),
      expect: 400,
      check: validation('resolution'),
    },
    {
      name: 'breakdown with start after end (400 Validation names start)',
      action: 'me.payloadCountsBreakdown',
      as: 'uma',
      client: (c) => { const now = Date.now(); return query(c, '/me/payloadCountsBreakdown', { start: String(now), end: String(now - DAY) }); },
      expect: 400,
      check: validation('start'),
    },
    {
      name: 'breakdown by hour over 40001 hours (400 Validation names end: at most 40000 entries)',
      action: 'me.payloadCountsBreakdown',
      as: 'uma',
      client: (c) => { const now = Date.now(); return query(c, '/me/payloadCountsBreakdown', { start: String(hourStart(now) - 40000 * HOUR), end: String(now), resolution: '3600000' }); },
      expect: 400,
      check: validation('end'),
    },
    {
      name: "breakdown by day over me.md's example range: 16966 days",
      action: 'me.payloadCountsBreakdown',
      as: 'uma',
      client: (c) => query(c, '/me/payloadCountsBreakdown', { start: '0', end: '1465790400000' }),
      expect: 200,
      check: (res) => buckets(res.body, 0, 1465790400000, DAY),
    },
    {
      name: 'breakdown with includeNonBillable=maybe (400 Validation names includeNonBillable)',
      action: 'me.payloadCountsBreakdown',
      as: 'uma',
      client: (c) => query(c, '/me/payloadCountsBreakdown', { includeNonBillable: 'maybe' }),
      expect: 400,
      check: validation('includeNonBillable'),
    },
    {
      name: 'device counts with start after end (400 Validation names start)',
      action: 'me.deviceCounts',
      as: 'uma',
      client: (c) => { const now = Date.now(); return query(c, '/me/deviceCounts', { start: String(now), end: String(now - DAY) }); },
      expect: 400,
      check: validation('start'),
    },
    {
      name: "notebook minutes over me.md's example range: 16966 days",
      action: 'me.notebookMinuteCounts',
      as: 'uma',
      client: (c) => query(c, '/me/notebookMinuteCounts', { start: '0', end: '1465790400000' }),
      expect: 200,
      check: (res) => buckets(res.body, 0, 1465790400000, DAY),
    },
    {
      name: "device counts over me.md's example range: 16966 days",
      action: 'me.deviceCounts',
      as: 'uma',
      client: (c) => query(c, '/me/deviceCounts', { start: '0', end: '1465790400000' }),
      expect: 200,
      check: (res) => buckets(res.body, 0, 1465790400000, DAY),
    },
    // --- Device counts.
    {
      name: 'delete device B',
      action: 'device.delete',
      as: 'uma',
      client: (c, ctx) => c.device.delete({ applicationId: ctx.u.app, deviceId: ctx.u.devB }),
      expect: 200,
      needed: true,
      check: (res) => assertEq(res.body, { success: true }, 'body'),
    },
    {
      name: 'device counts from 2 days before: 2 created, 1 deleted, 1 left (the organization\'s device not counted)',
      action: 'me.deviceCounts',
      as: 'uma',
      client: (c, ctx) => {
        ctx.u.q = { start: dayStart(ctx.u.t0) - 2 * DAY, end: Date.now() };
        return query(c, '/me/deviceCounts', { start: String(ctx.u.q.start), end: String(ctx.u.q.end) });
      },
      expect: 200,
      check: (res, ctx) => {
        const counts = buckets(res.body, ctx.u.q.start, ctx.u.q.end, DAY);
        assertSame(counts.slice(0, 2).map((x) => [x.created, x.deleted, x.total]), [[0, 0, 0], [0, 0, 0]], 'the two days before [created, deleted, total]');
        assertEq([sum(counts, 'created'), sum(counts, 'deleted'), counts[counts.length - 1].total], [2, 1, 1], 'created, deleted, total at the end');
        if (counts.length === 3) {
          assertEq([counts[2].created, counts[2].deleted, counts[2].total], [2, 1, 1], 'today');
        }
      },
    },
    {
      name: 'device counts over exactly 366 days: 367 days, all 0 before the devices existed',
      action: 'me.deviceCounts',
      as: 'uma',
      client: (c, ctx) => {
        const end = Date.now();
        ctx.u.q = { start: end - 366 * DAY, end };
        return query(c, '/me/deviceCounts', { start: String(ctx.u.q.start), end: String(ctx.u.q.end) });
      },
      expect: 200,
      check: (res, ctx) => {
        const counts = buckets(res.body, ctx.u.q.start, ctx.u.q.end, DAY);
        assertEq(counts.length, 367, 'days');
        const before = counts.filter((x) => Date.parse(x.date) < dayStart(ctx.u.t0));
        assert(before.every((x) => x.created === 0 && x.deleted === 0 && x.total === 0), 'a day before the devices existed is not all 0');
      },
    },
  ],
};

// errorShape checks that an error answer has a type and a message (the
// reference's error.json requires neither).
function errorShape(res) {
  assert(res.isJSON, 'the answer is not JSON');
  assert(typeof res.body.type === 'string' && res.body.type !== '', 'error body has no type');
  assert(typeof res.body.message === 'string' && res.body.message !== '', 'error body has no message');
}
