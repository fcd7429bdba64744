'use strict';

// Logging in, the profile, refreshing the token and changing the password,
// all through the official client.

const { assert, assertEq, assertMentions } = require('../lib/util');

const ada = { email: 'ada@example.com', password: 'Analytical-Engine-1843', firstName: 'Ada', verified: true };
const adaNewPassword = 'Difference-Engine-1822!';

const login = (u, extra) => (c, ctx) => c.auth.authenticateUser({
  credentials: Object.assign({ email: ctx.users[u].email, password: ctx.users[u].password }, extra || {}),
});

module.exports = {
  title: 'session and profile (auth.authenticateUser, me.get, me.patch, me.refreshToken, me.changePassword)',
  users: { ada },
  steps: [
    {
      name: 'log in with a wrong password',
      action: 'auth.authenticateUser',
      client: login('ada', { password: 'Not-The-Password-1' }),
      expect: 401,
    },
    {
      name: 'log in without a password (400 names password)',
      action: 'auth.authenticateUser',
      client: (c, ctx) => c.auth.authenticateUser({ credentials: { email: ctx.users.ada.email } }),
      expect: 400,
      check: (res) => assertMentions(res.body, 'password'),
    },
    {
      name: 'log in',
      action: 'auth.authenticateUser',
      client: login('ada'),
      expect: 200,
      needed: true,
      check: (res, ctx) => {
        assertEq(res.body.userId, ctx.users.ada.id, 'userId');
        assertEq(res.body.needsToVerifyEmail, false, 'needsToVerifyEmail');
        ctx.tokens.ada = res.body.token;
      },
    },
    {
      name: 'me without a token',
      action: 'me.get',
      client: (c) => c.me.get(),
      expect: 401,
    },
    {
      name: 'me (with the losantdomain header the client may send)',
      action: 'me.get',
      as: 'ada',
      client: (c) => c.me.get({ losantdomain: 'example.com' }),
      expect: 200,
      check: (res, ctx) => {
        assertEq(res.body.id, ctx.users.ada.id, 'id');
        assertEq(res.body.email, ctx.users.ada.email, 'email');
        assertEq(res.body.firstName, 'Ada', 'firstName');
        assertEq(res.body.emailVerified, true, 'emailVerified');
      },
    },
    {
      name: 'me with summaryInclude=apiTokenCount,orgCount',
      action: 'me.get',
      as: 'ada',
      client: (c) => c.me.get({ summaryInclude: 'apiTokenCount,orgCount' }),
      expect: 200,
      check: (res) => assertEq(Object.keys(res.body.summary || {}).sort(), ['apiTokenCount', 'orgCount'], 'summary fields'),
    },
    {
      name: 'me with summaryExclude=apiTokenCount',
      action: 'me.get',
      as: 'ada',
      client: (c) => c.me.get({ summaryExclude: 'apiTokenCount' }),
      expect: 200,
      check: (res) => {
        assert(res.body.summary && typeof res.body.summary === 'object', 'no summary');
        assert(!('apiTokenCount' in res.body.summary), 'summary still has apiTokenCount');
      },
    },
    {
      name: 'me with includeRecent=true',
      action: 'me.get',
      as: 'ada',
      client: (c) => c.me.get({ includeRecent: true }),
      expect: 200,
      check: (res) => {
        for (const k of ['recentApplications', 'recentDashboards']) {
          assert(res.body[k] && Array.isArray(res.body[k].items), `${k} is missing or has no items`);
        }
      },
    },
    {
      name: 'patch the profile fields',
      action: 'me.patch',
      as: 'ada',
      client: (c) => c.me.patch({
        user: {
          firstName: 'Augusta Ada', lastName: 'King', companyName: 'Analytical Society', title: 'Countess',
          phoneNumber: '+44 20 7946 0018', location: 'London', url: 'https://example.com/ada',
        },
        summaryInclude: 'apiTokenCount',
      }),
      expect: 200,
      check: (res) => {
        const b = res.body;
        assertEq([b.firstName, b.lastName, b.companyName, b.title, b.phoneNumber, b.location, b.url],
          ['Augusta Ada', 'King', 'Analytical Society', 'Countess', '+44 20 7946 0018', 'London', 'https://example.com/ada'], 'patched fields');
        assertEq(b.fullName, 'Augusta Ada King', 'fullName');
        assertEq(Object.keys(b.summary || {}), ['apiTokenCount'], 'summary fields');
      },
    },
    {
      name: 'patch an empty firstName (400 names firstName)',
      action: 'me.patch',
      as: 'ada',
      client: (c) => c.me.patch({ user: { firstName: '' } }),
      expect: 400,
      check: (res) => assertMentions(res.body, 'firstName'),
    },
    {
      name: 'patch a field the schema does not have (400 names it)',
      action: 'me.patch',
      as: 'ada',
      client: (c) => c.me.patch({ user: { favouriteEngine: 'analytical' } }),
      expect: 400,
      check: (res) => assertMentions(res.body, 'favouriteEngine'),
    },
    {
      name: 'change the email without currentCredentials (400 names currentCredentials)',
      action: 'me.patch',
      as: 'ada',
      client: (c) => c.me.patch({ user: { email: 'countess@example.com' } }),
      expect: 400,
      check: (res) => assertMentions(res.body, 'currentCredentials'),
    },
    {
      name: 'refresh the token',
      action: 'me.refreshToken',
      as: 'ada',
      client: (c) => c.me.refreshToken(),
      expect: 200,
      check: (res, ctx) => {
        assertEq(res.body.userId, ctx.users.ada.id, 'userId');
        assert(res.body.token !== ctx.tokens.ada, 'the refreshed token is the old one');
        ctx.tokens.adaRefreshed = res.body.token;
      },
    },
    {
      name: 'me with the refreshed token',
      action: 'me.get',
      as: 'adaRefreshed',
      client: (c) => c.me.get(),
      expect: 200,
    },
    {
      name: 'me with the token it was refreshed from (still valid)',
      action: 'me.get',
      as: 'ada',
      client: (c) => c.me.get(),
      expect: 200,
    },
    {
      name: 'change the password to a weak one (400 names newPassword)',
      action: 'me.changePassword',
      as: 'ada',
      client: (c, ctx) => c.me.changePassword({ data: { password: ctx.users.ada.password, newPassword: 'weakpassword' } }),
      expect: 400,
      check: (res) => assertMentions(res.body, 'newPassword'),
    },
    {
      name: 'change the password with a wrong current one (400 names password)',
      action: 'me.changePassword',
      as: 'ada',
      client: (c) => c.me.changePassword({ data: { password: 'Not-The-Password-1', newPassword: adaNewPassword } }),
      expect: 400,
      check: (res) => assertMentions(res.body, 'password'),
    },
    {
      name: 'change the password, invalidating existing tokens',
      action: 'me.changePassword',
      as: 'ada',
      client: (c, ctx) => c.me.changePassword({
        data: { password: ctx.users.ada.password, newPassword: adaNewPassword, invalidateExistingTokens: true },
      }),
      expect: 200,
      needed: true,
      check: (res, ctx) => {
        assertEq(res.body.userId, ctx.users.ada.id, 'userId');
        ctx.tokens.adaOld = ctx.tokens.ada;
        ctx.tokens.ada = res.body.token;
        ctx.users.ada.oldPassword = ctx.users.ada.password;
        ctx.users.ada.password = adaNewPassword;
      },
    },
    {
      name: 'the token from before the change is refused',
      action: 'me.get',
      as: 'adaOld',
      client: (c) => c.me.get(),
      expect: 401,
    },
    {
      name: 'the refreshed token from before the change is refused',
      action: 'me.get',
      as: 'adaRefreshed',
      client: (c) => c.me.get(),
      expect: 401,
    },
    {
      name: 'the token changePassword returned works',
      action: 'me.get',
      as: 'ada',
      client: (c) => c.me.get(),
      expect: 200,
      check: (res) => assert(typeof res.body.tokenCutoff === 'string', 'tokenCutoff is not set after invalidateExistingTokens'),
    },
    {
      name: 'log in with the old password',
      action: 'auth.authenticateUser',
      client: (c, ctx) => c.auth.authenticateUser({ credentials: { email: ctx.users.ada.email, password: ctx.users.ada.oldPassword } }),
      expect: 401,
    },
    {
      name: 'log in with the new password',
      action: 'auth.authenticateUser',
      client: login('ada'),
      expect: 200,
      check: (res, ctx) => { ctx.tokens.ada = res.body.token; },
    },
  ],
};
