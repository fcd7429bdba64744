'use strict';

// Organization fidelity through the official client: every documented
// property of orgPost and orgInvitePost round-trips, the org body carries
// summary, limits and whitelistedEmailDomains, and per-resource roles
// decide what a member lists, reads and may change: a member with role
// none and view on one application sees that one only; disallowTransfer
// keeps them from transferring into the organization.

const { assert, assertEq, assertMentions } = require('../lib/util');

const ivy = { email: 'ivy@example.com', password: 'Org-Roles-Admin-2024', firstName: 'Ivy', verified: true };
const jon = { email: 'jon@example.com', password: 'Org-Roles-Member-2024', firstName: 'Jon', verified: true };

const login = (u) => ({
  name: `log in as ${u}`,
  action: 'auth.authenticateUser',
  client: (c, ctx) => c.auth.authenticateUser({ credentials: { email: ctx.users[u].email, password: ctx.users[u].password } }),
  expect: 200,
  needed: true,
  check: (res, ctx) => { ctx.tokens[u] = res.body.token; },
});

const names = (list) => list.items.map((it) => it.name).sort();
const member = (org, email) => org.members.find((m) => m.email === email);

const createIn = (kind, key, name) => ({
  name: `ivy creates ${kind} ${name} in the organization`,
  action: kind === 'application' ? 'applications.post' : 'dashboards.post',
  as: 'ivy',
  client: (c, ctx) => (kind === 'application'
    ? c.applications.post({ application: { orgId: ctx.ids.roleOrg, name } })
    : c.dashboards.post({ dashboard: { orgId: ctx.ids.roleOrg, name } })),
  expect: 201,
  needed: true,
  check: (res, ctx) => { ctx.ids[key] = res.body.id; },
});

module.exports = {
  title: 'organization fidelity and per-resource roles (orgs.post, org.inviteMember, org.modifyMember, org.get with summary and limits, applicationRoles, dashboardRoles, disallowTransfer)',
  users: { ivy, jon },
  steps: [
    login('ivy'),
    login('jon'),
    {
      name: 'create an organization with every orgPost property (cardToken is never returned)',
      action: 'orgs.post',
      as: 'ivy',
      client: (c) => c.orgs.post({ organization: {
        name: 'Role Works', description: 'per-resource roles', planId: 'gold', billingEmail: 'billing@example.com',
        cardToken: 'tok_conformance', iconColor: '#00aa88', mfaMode: 'notRequired',
      } }),
      expect: 201,
      needed: true,
      check: (res, ctx) => {
        const b = res.body;
        assertEq([b.name, b.description, b.planId, b.billingEmail, b.iconColor, b.mfaMode],
          ['Role Works', 'per-resource roles', 'gold', 'billing@example.com', '#00aa88', 'notRequired'], 'orgPost properties');
        assert(!JSON.stringify(b).includes('tok_conformance'), 'the card token came back');
        assertEq([b.summary.memberCount, b.summary.appCount, b.whitelistedEmailDomains], [1, 0, []], 'summary, whitelistedEmailDomains');
        assert(b.limits && typeof b.limits === 'object', 'no limits object');
        ctx.ids.roleOrg = b.id;
      },
    },
    createIn('application', 'seen', 'Seen App'),
    createIn('application', 'unseen', 'Unseen App'),
    createIn('dashboard', 'board', 'Shared Board'),
    {
      name: 'invite jon with role none, view on one application, collaborate on the dashboard, disallowTransfer',
      action: 'org.inviteMember',
      as: 'ivy',
      client: (c, ctx) => c.org.inviteMember({ orgId: ctx.ids.roleOrg, invite: {
        email: 'jon@example.com', role: 'none', disallowTransfer: true,
        applicationRoles: [{ resourceId: ctx.ids.seen, role: 'view' }],
        dashboardRoles: [{ resourceId: ctx.ids.board, role: 'collaborate' }],
      } }),
      expect: 200,
      needed: true,
      check: (res, ctx) => {
        const i = res.body[0];
        assertEq([i.role, i.disallowTransfer, i.applicationRoles, i.dashboardRoles],
          ['none', true, [{ resourceId: ctx.ids.seen, role: 'view' }], [{ resourceId: ctx.ids.board, role: 'collaborate' }]], 'invitation');
        ctx.ids.roleInvite = i.id;
      },
    },
    {
      name: 'an application role on something the organization does not own (400 names applicationRoles)',
      action: 'org.inviteMember',
      as: 'ivy',
      client: (c, ctx) => c.org.inviteMember({ orgId: ctx.ids.roleOrg, invite: {
        email: 'kim@example.com', role: 'none', applicationRoles: [{ resourceId: '0123456789abcdef01234567', role: 'view' }],
      } }),
      expect: 400,
      check: (res) => assertMentions(res.body, 'applicationRoles[0].resourceId'),
    },
    {
      name: 'jon accepts',
      action: 'me.respondToInvite',
      as: 'jon',
      http: (ctx) => ({ method: 'POST', path: '/me/invites/' + ctx.ids.roleInvite, body: { action: 'accept' } }),
      expect: 200,
      needed: true,
    },
    {
      name: 'jon lists the applications: the one he may view',
      action: 'applications.get',
      as: 'jon',
      client: (c) => c.applications.get({}),
      expect: 200,
      check: (res) => assertEq(names(res.body), ['Seen App'], 'applications'),
    },
    {
      name: 'jon lists the dashboards: the one he collaborates on',
      action: 'dashboards.get',
      as: 'jon',
      client: (c) => c.dashboards.get({}),
      expect: 200,
      check: (res) => assertEq(names(res.body), ['Shared Board'], 'dashboards'),
    },
    {
      name: 'jon reads the other application (404)',
      action: 'application.get',
      as: 'jon',
      client: (c, ctx) => c.application.get({ applicationId: ctx.ids.unseen }),
      expect: 404,
    },
    {
      name: 'jon deletes the application he may only view (403)',
      action: 'application.delete',
      as: 'jon',
      client: (c, ctx) => c.application.delete({ applicationId: ctx.ids.seen }),
      expect: 403,
      check: (res) => assertMentions(res.body, 'view'),
    },
    {
      name: 'the organization shows jon\'s roles and what it counts',
      action: 'org.get',
      as: 'ivy',
      client: (c, ctx) => c.org.get({ orgId: ctx.ids.roleOrg }),
      expect: 200,
      check: (res, ctx) => {
        const m = member(res.body, 'jon@example.com');
        assertEq([m.role, m.applicationRoles, m.dashboardRoles],
          ['none', [{ resourceId: ctx.ids.seen, role: 'view' }], [{ resourceId: ctx.ids.board, role: 'collaborate' }]], 'jon');
        assertEq([res.body.summary.appCount, res.body.summary.dashCount, res.body.summary.memberCount], [2, 1, 2], 'summary');
      },
    },
    {
      name: 'summaryInclude shapes the organization summary',
      action: 'org.get',
      as: 'ivy',
      client: (c, ctx) => c.org.get({ orgId: ctx.ids.roleOrg, summaryInclude: 'appCount' }),
      expect: 200,
      check: (res) => assertEq(res.body.summary, { appCount: 2 }, 'summary'),
    },
    {
      name: 'ivy makes jon a collaborator who may not see the first application',
      action: 'org.modifyMember',
      as: 'ivy',
      client: (c, ctx) => c.org.modifyMember({ orgId: ctx.ids.roleOrg, member: {
        userId: ctx.users.jon.id, role: 'collaborate', applicationRoles: [{ resourceId: ctx.ids.seen, role: 'none' }],
      } }),
      expect: 200,
      check: (res, ctx) => {
        const m = member(res.body, 'jon@example.com');
        assertEq([m.role, m.applicationRoles, m.dashboardRoles],
          ['collaborate', [{ resourceId: ctx.ids.seen, role: 'none' }], [{ resourceId: ctx.ids.board, role: 'collaborate' }]], 'jon');
      },
    },
    {
      name: 'jon now lists the other application only',
      action: 'applications.get',
      as: 'jon',
      client: (c) => c.applications.get({}),
      expect: 200,
      check: (res) => assertEq(names(res.body), ['Unseen App'], 'applications'),
    },
    {
      name: 'jon creates an application of his own',
      action: 'applications.post',
      as: 'jon',
      client: (c) => c.applications.post({ application: { name: 'Jon App' } }),
      expect: 201,
      needed: true,
      check: (res, ctx) => { ctx.ids.jonApp = res.body.id; },
    },
    {
      name: 'jon transfers it into the organization he was invited to with disallowTransfer (400)',
      action: 'me.transferResources',
      as: 'jon',
      client: (c, ctx) => c.me.transferResources({ transfer: { destinationId: ctx.ids.roleOrg, destinationType: 'organization', applicationIds: [ctx.ids.jonApp] } }),
      expect: 400,
      check: (res) => assertMentions(res.body, 'disallowTransfer'),
    },
  ],
};
