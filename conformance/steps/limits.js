'use strict';

// User limits and the documented list parameters through the official
// client: GET /me shows the limits the server was started with
// (--limit-user-devices, see scenario.js), creating past one is a 400 that
// names it; the device list takes an advanced query (which the client
// sends as JSON text) and tagsAsObject/attributesAsObject, the device get
// the same flags, the flow list a query, and the application get a
// summary shaped by summaryInclude.

const { assert, assertEq, assertMentions } = require('../lib/util');

// DEVICE_LIMIT is what scenario.js passes as --limit-user-devices.
const DEVICE_LIMIT = 3;

const lia = { email: 'lia@example.com', password: 'Limits-And-Queries-2024', firstName: 'Lia', verified: true };

const names = (list) => list.items.map((it) => it.name).sort();

// Client 2.8.1 drops tagsAsObject and attributesAsObject (its devices.get
// and device.get predate them): those requests go through the client's
// generic request, with the query flags its actions send and the advanced
// query as JSON text, as its actions send it.
const QUERY_FLAGS = { _actions: false, _links: true, _embedded: true };
const get = (c, url, params) => c.request({ method: 'GET', url, params: Object.assign({}, QUERY_FLAGS, params) });

const device = (name, extra) => ({
  name: `create device ${name}`,
  action: 'devices.post',
  as: 'lia',
  client: (c, ctx) => c.devices.post({ applicationId: ctx.ids.limitsApp, device: Object.assign({ name }, extra) }),
  expect: 201,
  needed: true,
  check: (res, ctx) => { ctx.ids['limits ' + name] = res.body.id; },
});

module.exports = {
  title: 'user limits, advanced queries, tagsAsObject/attributesAsObject and the application summary (me.get limits, devices.post past a limit, devices.get query, device.get, flows.get query, application.get summaryInclude)',
  users: { lia },
  DEVICE_LIMIT,
  steps: [
    {
      name: 'log in as lia',
      action: 'auth.authenticateUser',
      client: (c, ctx) => c.auth.authenticateUser({ credentials: { email: ctx.users.lia.email, password: ctx.users.lia.password } }),
      expect: 200,
      needed: true,
      check: (res, ctx) => { ctx.tokens.lia = res.body.token; },
    },
    {
      name: 'GET /me shows the device limit',
      action: 'me.get',
      as: 'lia',
      client: (c) => c.me.get({}),
      expect: 200,
      check: (res) => assertEq(res.body.limits && res.body.limits.device, DEVICE_LIMIT, 'limits.device'),
    },
    {
      name: 'create an application',
      action: 'applications.post',
      as: 'lia',
      client: (c) => c.applications.post({ application: { name: 'Limits App' } }),
      expect: 201,
      needed: true,
      check: (res, ctx) => { ctx.ids.limitsApp = res.body.id; },
    },
    device('hub', { deviceClass: 'gateway', tags: [{ key: 'floor', value: '2' }, { key: 'floor', value: '3' }],
      attributes: [{ name: 'temp', dataType: 'number' }, { name: 'hum', dataType: 'number' }] }),
    device('probe_1%', { deviceClass: 'peripheral', tags: [{ key: 'floor', value: '2' }] }),
    device('probe-2', { deviceClass: 'peripheral' }),
    {
      name: 'a device past the limit (400 names the limit)',
      action: 'devices.post',
      as: 'lia',
      client: (c, ctx) => c.devices.post({ applicationId: ctx.ids.limitsApp, device: { name: 'one too many' } }),
      expect: 400,
      check: (res) => assertMentions(res.body, `devices limit of ${DEVICE_LIMIT} reached`),
    },
    {
      name: 'list devices with an advanced query and tagsAsObject',
      action: 'devices.get',
      as: 'lia',
      client: (c, ctx) => get(c, `/applications/${ctx.ids.limitsApp}/devices`, { tagsAsObject: 'true',
        query: JSON.stringify({ $or: [{ name: { $contains: '%' } }, { tags: { $tagKey: 'floor', $tagValue: { $in: ['3'] } } }] }) }),
      expect: 200,
      check: (res) => {
        assertEq(names(res.body), ['hub', 'probe_1%'], 'devices');
        const hub = res.body.items.find((d) => d.name === 'hub');
        assertEq(hub.tags, { floor: ['2', '3'] }, 'tags as an object');
      },
    },
    {
      name: 'list devices with an advanced query through the client\'s own devices.get',
      action: 'devices.get',
      as: 'lia',
      client: (c, ctx) => c.devices.get({ applicationId: ctx.ids.limitsApp, query: { deviceClass: 'peripheral', tags: { floor: '2' }, parentId: { $eq: null } } }),
      expect: 200,
      check: (res) => assertEq(names(res.body), ['probe_1%'], 'devices'),
    },
    {
      name: 'a malformed advanced query through the client\'s own devices.get (400 names where)',
      action: 'devices.get',
      as: 'lia',
      client: (c, ctx) => c.devices.get({ applicationId: ctx.ids.limitsApp, query: { name: { $regex: '^p' } } }),
      expect: 400,
      check: (res) => assertMentions(res.body, 'query.name.$regex'),
    },
    {
      name: 'get a device with tagsAsObject and attributesAsObject',
      action: 'device.get',
      as: 'lia',
      client: (c, ctx) => get(c, `/applications/${ctx.ids.limitsApp}/devices/${ctx.ids['limits hub']}`, { tagsAsObject: 'true', attributesAsObject: 'true' }),
      expect: 200,
      check: (res) => {
        assertEq(res.body.tags, { floor: ['2', '3'] }, 'tags as an object');
        assert(res.body.attributes && res.body.attributes.hum && res.body.attributes.hum.dataType === 'number', 'attributes as an object');
      },
    },
    {
      name: 'create a flow with a timer trigger',
      action: 'flows.post',
      as: 'lia',
      client: (c, ctx) => c.flows.post({ applicationId: ctx.ids.limitsApp, flow: { name: 'Every minute', flowClass: 'edge',
        triggers: [{ type: 'timer', config: { seconds: 60 } }] } }),
      expect: 201,
      needed: true,
    },
    {
      name: 'list flows with an advanced query (it overrides the cloud default of flowClass)',
      action: 'flows.get',
      as: 'lia',
      client: (c, ctx) => c.flows.get({ applicationId: ctx.ids.limitsApp, query: { triggers: { type: 'timer' } } }),
      expect: 200,
      check: (res) => assertEq(names(res.body), ['Every minute'], 'flows'),
    },
    {
      name: 'the application summary, shaped by summaryInclude',
      action: 'application.get',
      as: 'lia',
      client: (c, ctx) => c.application.get({ applicationId: ctx.ids.limitsApp, summaryInclude: 'deviceCount,flowCount,payloadCount' }),
      expect: 200,
      check: (res) => assertEq(res.body.summary, { deviceCount: DEVICE_LIMIT, flowCount: 1 }, 'summary'),
    },
  ],
};
