'use strict';

// Organizations, invitations, applications, dashboards, devices, flows,
// recent items and transfers: two users make an organization, one invites
// the other, who accepts; an application and a dashboard move into it and
// show up in both users' lists, recent items and summaries. Client 2.8.1
// has no me.invites, me.invite or me.respondToInvite, so those steps use
// plain HTTP with the client's headers.

const { assert, assertEq, assertMentions } = require('../lib/util');

const gus = { email: 'gus@example.com', password: 'Orgs-And-Apps-2024', firstName: 'Gus', verified: true };
const hal = { email: 'hal@example.com', password: 'Invited-Member-2024', firstName: 'Hal', verified: true };

const UNKNOWN_ID = '0123456789abcdef01234567';

const login = (u) => ({
  name: `log in as ${u}`,
  action: 'auth.authenticateUser',
  client: (c, ctx) => c.auth.authenticateUser({ credentials: { email: ctx.users[u].email, password: ctx.users[u].password } }),
  expect: 200,
  needed: true,
  check: (res, ctx) => { ctx.tokens[u] = res.body.token; },
});

const ids = (list) => list.items.map((it) => it.id);

module.exports = {
  title: 'organizations and resources (orgs, org, applications, application, dashboards, dashboard, devices, device, flows, flow, me.invites/invite/respondToInvite, me.addRecentItem/fetchRecentItems, me.transferResources)',
  users: { gus, hal },
  steps: [
    login('gus'),
    login('hal'),
    {
      name: 'create an organization',
      action: 'orgs.post',
      as: 'gus',
      client: (c) => c.orgs.post({ organization: { name: 'Conformance Works', description: 'made by the scenario' } }),
      expect: 201,
      needed: true,
      check: (res, ctx) => {
        assertEq([res.body.name, res.body.mfaMode, res.body.members.length, res.body.members[0].role], ['Conformance Works', 'notRequired', 1, 'admin'], 'name, mfaMode, members');
        ctx.ids.org = res.body.id;
      },
    },
    {
      name: 'create an organization without a name (400 names name)',
      action: 'orgs.post',
      as: 'gus',
      client: (c) => c.orgs.post({ organization: { description: 'no name' } }),
      expect: 400,
      check: (res) => assertMentions(res.body, 'name'),
    },
    {
      name: 'invite hal as an editor',
      action: 'org.inviteMember',
      as: 'gus',
      client: (c, ctx) => c.org.inviteMember({ orgId: ctx.ids.org, invite: { email: 'HAL@example.com', role: 'edit' } }),
      expect: 200,
      needed: true,
      check: (res, ctx) => {
        assertEq(res.body.length, 1, 'pending invitations');
        assertEq([res.body[0].role, res.body[0].hasExpired, res.body[0].ttl], ['edit', false, 7 * 24 * 3600 * 1000], 'role, hasExpired, ttl');
        ctx.ids.invite = res.body[0].id;
      },
    },
    {
      name: 'list the pending invitations',
      action: 'org.pendingInvites',
      as: 'gus',
      client: (c, ctx) => c.org.pendingInvites({ orgId: ctx.ids.org }),
      expect: 200,
      check: (res, ctx) => assertEq(res.body.map((i) => i.id), [ctx.ids.invite], 'ids'),
    },
    {
      name: 'invite someone, then revoke it',
      action: 'org.inviteMember',
      as: 'gus',
      client: (c, ctx) => c.org.inviteMember({ orgId: ctx.ids.org, invite: { email: 'nobody@example.com', role: 'view' } }),
      expect: 200,
      check: (res, ctx) => { ctx.ids.revoked = res.body.find((i) => i.email === 'nobody@example.com').id; },
    },
    {
      name: 'revoke the second invitation',
      action: 'org.revokeInvite',
      as: 'gus',
      client: (c, ctx) => c.org.revokeInvite({ orgId: ctx.ids.org, inviteId: ctx.ids.revoked }),
      expect: 200,
      check: (res, ctx) => assertEq(res.body.map((i) => i.id), [ctx.ids.invite], 'left'),
    },
    {
      name: 'hal lists his invitations',
      action: 'me.invites',
      as: 'hal',
      http: () => ({ method: 'GET', path: '/me/invites' }),
      expect: 200,
      check: (res, ctx) => {
        assertEq(res.body.map((i) => [i.id, i.orgName, i.role, i.expired]), [[ctx.ids.invite, 'Conformance Works', 'edit', false]], 'invitations');
        assertEq(res.body[0].invitedBy.email, 'gus@example.com', 'invitedBy.email');
      },
    },
    {
      name: 'hal reads the invitation',
      action: 'me.invite',
      as: 'hal',
      http: (ctx) => ({ method: 'GET', path: '/me/invites/' + ctx.ids.invite }),
      expect: 200,
      check: (res, ctx) => assertEq([res.body.id, res.body.requiresMFA], [ctx.ids.invite, false], 'id, requiresMFA'),
    },
    {
      name: 'gus cannot read an invitation addressed to hal',
      action: 'me.invite',
      as: 'gus',
      http: (ctx) => ({ method: 'GET', path: '/me/invites/' + ctx.ids.invite }),
      expect: 404,
    },
    {
      name: 'hal answers with an unknown action (400 names action)',
      action: 'me.respondToInvite',
      as: 'hal',
      http: (ctx) => ({ method: 'POST', path: '/me/invites/' + ctx.ids.invite, body: { action: 'maybe' } }),
      expect: 400,
      check: (res) => assertMentions(res.body, 'action'),
    },
    {
      name: 'hal accepts',
      action: 'me.respondToInvite',
      as: 'hal',
      http: (ctx) => ({ method: 'POST', path: '/me/invites/' + ctx.ids.invite, body: { action: 'accept' } }),
      expect: 200,
      needed: true,
      check: (res, ctx) => assertEq(res.body, { result: 'accepted', orgId: ctx.ids.org }, 'body'),
    },
    {
      name: 'hal accepts again (400)',
      action: 'me.respondToInvite',
      as: 'hal',
      http: (ctx) => ({ method: 'POST', path: '/me/invites/' + ctx.ids.invite, body: { action: 'accept' } }),
      expect: 400,
      check: (res) => assertMentions(res.body, 'already answered'),
    },
    {
      name: 'hal sees the organization and both members',
      action: 'org.get',
      as: 'hal',
      client: (c, ctx) => c.org.get({ orgId: ctx.ids.org }),
      expect: 200,
      check: (res) => {
        const roles = Object.fromEntries(res.body.members.map((m) => [m.email, m.role]));
        assertEq(roles, { 'gus@example.com': 'admin', 'hal@example.com': 'edit' }, 'members');
      },
    },
    {
      name: 'hal lists his organizations',
      action: 'orgs.get',
      as: 'hal',
      client: (c) => c.orgs.get({ filterField: 'name', filter: 'conformance*' }),
      expect: 200,
      check: (res, ctx) => assertEq([ids(res.body), res.body.totalCount], [[ctx.ids.org], 1], 'ids, totalCount'),
    },
    {
      name: 'gus makes hal a viewer',
      action: 'org.modifyMember',
      as: 'gus',
      client: (c, ctx) => c.org.modifyMember({ orgId: ctx.ids.org, member: { userId: ctx.users.hal.id, role: 'view' } }),
      expect: 200,
      check: (res) => assertEq(res.body.members.find((m) => m.email === 'hal@example.com').role, 'view', 'hal\'s role'),
    },
    {
      name: 'gus makes hal an editor again',
      action: 'org.modifyMember',
      as: 'gus',
      client: (c, ctx) => c.org.modifyMember({ orgId: ctx.ids.org, member: { userId: ctx.users.hal.id, role: 'edit' } }),
      expect: 200,
    },
    {
      name: 'create an application',
      action: 'applications.post',
      as: 'gus',
      client: (c) => c.applications.post({ application: { name: 'Conformance App', description: 'moves later' } }),
      expect: 201,
      needed: true,
      check: (res, ctx) => {
        assertEq([res.body.ownerType, res.body.ownerId], ['user', ctx.users.gus.id], 'owner');
        ctx.ids.app = res.body.id;
      },
    },
    {
      name: 'create a dashboard',
      action: 'dashboards.post',
      as: 'gus',
      client: (c) => c.dashboards.post({ dashboard: { name: 'Conformance Board' } }),
      expect: 201,
      needed: true,
      check: (res, ctx) => { ctx.ids.dash = res.body.id; },
    },
    {
      name: 'add a device to the application',
      action: 'devices.post',
      as: 'gus',
      client: (c, ctx) => c.devices.post({ applicationId: ctx.ids.app, device: { name: 'Conformance Device', deviceClass: 'gateway' } }),
      expect: 201,
      check: (res, ctx) => { ctx.ids.device = res.body.id; },
    },
    {
      name: 'add a flow to the application',
      action: 'flows.post',
      as: 'gus',
      client: (c, ctx) => c.flows.post({ applicationId: ctx.ids.app, flow: { name: 'Conformance Flow', enabled: true } }),
      expect: 201,
      check: (res, ctx) => { ctx.ids.flow = res.body.id; },
    },
    {
      name: 'hal cannot see gus\'s own application yet',
      action: 'application.get',
      as: 'hal',
      client: (c, ctx) => c.application.get({ applicationId: ctx.ids.app }),
      expect: 404,
    },
    {
      name: 'gus uses the application',
      action: 'me.addRecentItem',
      as: 'gus',
      client: (c, ctx) => c.me.addRecentItem({ data: { itemType: 'application', itemId: ctx.ids.app } }),
      expect: 200,
      check: (res, ctx) => assertEq(ids(res.body), [ctx.ids.app], 'recent applications'),
    },
    {
      name: 'a device without its application (400 names parentId)',
      action: 'me.addRecentItem',
      as: 'gus',
      client: (c, ctx) => c.me.addRecentItem({ data: { itemType: 'device', itemId: ctx.ids.device } }),
      expect: 400,
      check: (res) => assertMentions(res.body, 'parentId'),
    },
    {
      name: 'move a non-existent application, strictly (400 names it)',
      action: 'me.transferResources',
      as: 'gus',
      client: (c, ctx) => c.me.transferResources({ transfer: { destinationId: ctx.ids.org, destinationType: 'organization', applicationIds: [ctx.ids.app, UNKNOWN_ID], strict: true } }),
      expect: 400,
      check: (res) => assertMentions(res.body, 'applicationIds[1]'),
    },
    {
      name: 'move the application and the dashboard into the organization',
      action: 'me.transferResources',
      as: 'gus',
      client: (c, ctx) => c.me.transferResources({ transfer: { destinationId: ctx.ids.org, destinationType: 'organization', applicationIds: [ctx.ids.app], dashboardIds: [ctx.ids.dash], strict: true } }),
      expect: 200,
      needed: true,
      check: (res) => assertEq(res.body, { success: true }, 'body'),
    },
    {
      name: 'hal reads the moved application',
      action: 'application.get',
      as: 'hal',
      client: (c, ctx) => c.application.get({ applicationId: ctx.ids.app }),
      expect: 200,
      check: (res, ctx) => assertEq([res.body.id, res.body.ownerType, res.body.ownerId, res.body.organizationName], [ctx.ids.app, 'organization', ctx.ids.org, 'Conformance Works'], 'application'),
    },
    {
      name: 'hal lists the organization\'s applications',
      action: 'applications.get',
      as: 'hal',
      client: (c, ctx) => c.applications.get({ orgId: ctx.ids.org }),
      expect: 200,
      check: (res, ctx) => assertEq(ids(res.body), [ctx.ids.app], 'ids'),
    },
    {
      name: 'hal reads the moved dashboard',
      action: 'dashboard.get',
      as: 'hal',
      client: (c, ctx) => c.dashboard.get({ dashboardId: ctx.ids.dash }),
      expect: 200,
      check: (res, ctx) => assertEq([res.body.ownerType, res.body.ownerId], ['organization', ctx.ids.org], 'owner'),
    },
    {
      name: 'hal lists dashboards',
      action: 'dashboards.get',
      as: 'hal',
      client: (c) => c.dashboards.get({ sortField: 'name', sortDirection: 'desc' }),
      expect: 200,
      check: (res, ctx) => assertEq(ids(res.body), [ctx.ids.dash], 'ids'),
    },
    {
      name: 'hal lists the devices',
      action: 'devices.get',
      as: 'hal',
      client: (c, ctx) => c.devices.get({ applicationId: ctx.ids.app }),
      expect: 200,
      check: (res, ctx) => assertEq(ids(res.body), [ctx.ids.device], 'ids'),
    },
    {
      name: 'hal reads the device',
      action: 'device.get',
      as: 'hal',
      client: (c, ctx) => c.device.get({ applicationId: ctx.ids.app, deviceId: ctx.ids.device }),
      expect: 200,
      check: (res) => assertEq([res.body.name, res.body.deviceClass], ['Conformance Device', 'gateway'], 'device'),
    },
    {
      name: 'hal lists the flows',
      action: 'flows.get',
      as: 'hal',
      client: (c, ctx) => c.flows.get({ applicationId: ctx.ids.app }),
      expect: 200,
      check: (res, ctx) => assertEq(ids(res.body), [ctx.ids.flow], 'ids'),
    },
    {
      name: 'hal reads the flow',
      action: 'flow.get',
      as: 'hal',
      client: (c, ctx) => c.flow.get({ applicationId: ctx.ids.app, flowId: ctx.ids.flow }),
      expect: 200,
      check: (res) => assertEq([res.body.name, res.body.enabled], ['Conformance Flow', true], 'flow'),
    },
    {
      name: 'hal uses the device',
      action: 'me.addRecentItem',
      as: 'hal',
      client: (c, ctx) => c.me.addRecentItem({ data: { itemType: 'device', parentId: ctx.ids.app, itemId: ctx.ids.device } }),
      expect: 200,
    },
    {
      name: 'hal uses the application',
      action: 'me.addRecentItem',
      as: 'hal',
      client: (c, ctx) => c.me.addRecentItem({ data: { itemType: 'application', itemId: ctx.ids.app } }),
      expect: 200,
    },
    {
      name: 'hal\'s recent devices of the application',
      action: 'me.fetchRecentItems',
      as: 'hal',
      client: (c, ctx) => c.me.fetchRecentItems({ itemType: 'device', parentId: ctx.ids.app }),
      expect: 200,
      check: (res, ctx) => assertEq([res.body.itemType, res.body.parentId, ids(res.body)], ['device', ctx.ids.app, [ctx.ids.device]], 'list'),
    },
    {
      name: 'hal\'s profile with recent items and the summary',
      action: 'me.get',
      as: 'hal',
      client: (c) => c.me.get({ includeRecent: true }),
      expect: 200,
      check: (res, ctx) => {
        assertEq(ids(res.body.recentApplications), [ctx.ids.app], 'recentApplications');
        const s = res.body.summary;
        assertEq([s.appCount, s.dashCount, s.deviceCount, s.flowCount, s.orgCount], [1, 1, 1, 1, 1], 'summary counts');
      },
    },
    {
      name: 'gus finds the application in his recent items too',
      action: 'me.fetchRecentItems',
      as: 'gus',
      client: (c) => c.me.fetchRecentItems({ itemType: 'application' }),
      expect: 200,
      check: (res, ctx) => assertEq(res.body.items, [{ id: ctx.ids.app, name: 'Conformance App' }], 'items'),
    },
    {
      name: 'gus cannot delete his account while he is the organization\'s only admin',
      action: 'me.delete',
      as: 'gus',
      client: (c, ctx) => c.me.delete({ credentials: { email: ctx.users.gus.email, password: ctx.users.gus.password } }),
      expect: 400,
      check: (res) => assertMentions(res.body, 'only admin'),
    },
    {
      name: 'hal deletes the flow',
      action: 'flow.delete',
      as: 'hal',
      client: (c, ctx) => c.flow.delete({ applicationId: ctx.ids.app, flowId: ctx.ids.flow }),
      expect: 200,
    },
    {
      name: 'hal deletes the device',
      action: 'device.delete',
      as: 'hal',
      client: (c, ctx) => c.device.delete({ applicationId: ctx.ids.app, deviceId: ctx.ids.device }),
      expect: 200,
    },
    {
      name: 'the organization cannot go while it owns things',
      action: 'org.delete',
      as: 'gus',
      client: (c, ctx) => c.org.delete({ orgId: ctx.ids.org }),
      expect: 400,
      check: (res) => assertMentions(res.body, 'delete them first'),
    },
    {
      name: 'hal deletes the application',
      action: 'application.delete',
      as: 'hal',
      client: (c, ctx) => c.application.delete({ applicationId: ctx.ids.app }),
      expect: 200,
    },
    {
      name: 'hal deletes the dashboard',
      action: 'dashboard.delete',
      as: 'hal',
      client: (c, ctx) => c.dashboard.delete({ dashboardId: ctx.ids.dash }),
      expect: 200,
    },
    {
      name: 'the deleted application leaves hal\'s recent items',
      action: 'me.fetchRecentItems',
      as: 'hal',
      client: (c) => c.me.fetchRecentItems({ itemType: 'application' }),
      expect: 200,
      check: (res) => assertEq(res.body.items, [], 'items'),
    },
    {
      name: 'hal leaves the organization',
      action: 'org.removeMember',
      as: 'hal',
      client: (c, ctx) => c.org.removeMember({ orgId: ctx.ids.org, userId: ctx.users.hal.id }),
      expect: 200,
      check: (res) => assert(!res.body.members.some((m) => m.email === 'hal@example.com'), 'hal is still a member'),
    },
    {
      name: 'gus deletes the organization',
      action: 'org.delete',
      as: 'gus',
      client: (c, ctx) => c.org.delete({ orgId: ctx.ids.org }),
      expect: 200,
      check: (res) => assertEq(res.body, { success: true }, 'body'),
    },
  ],
};
