'use strict';

// GitHub: linking (accountd's github.connect, POST /me/connectGithub, over
// plain HTTP, then the browser callback github.callback), signing in
// (auth.authenticateUserGithub in client 2.8.1; github.authenticateUser in
// accountd's route table) and unlinking (me.disconnectGithub, in client
// 2.8.1), against the fake GitHub the scenario starts.

const { assert, assertEq } = require('../lib/util');

const dee = { email: 'dee@example.com', password: 'Octocat-Dee-2024!', firstName: 'Dee', verified: true };
const GH_USER = { id: 5150, login: 'octo-dee' };
const GH_TOKEN = 'gho_conformance_dee';
const GH_CODE = 'conformance-code-dee';

const callback = (name, expect, query, check) => ({
  name, action: 'github.callback', page: true, expect, check,
  http: (ctx) => ({ method: 'GET', path: '/auth/github/callback?' + new URLSearchParams(query(ctx)).toString(), bare: true }),
});

const githubLogin = (accessToken) => (c) => c.auth.authenticateUserGithub({ oauth: { accessToken } });

module.exports = {
  title: 'GitHub (github.connect, github.callback, auth.authenticateUserGithub, me.disconnectGithub)',
  users: { dee },
  steps: [
    {
      name: 'log in',
      action: 'auth.authenticateUser',
      client: (c, ctx) => c.auth.authenticateUser({ credentials: { email: ctx.users.dee.email, password: ctx.users.dee.password } }),
      expect: 200,
      needed: true,
      check: (res, ctx) => { ctx.tokens.dee = res.body.token; },
    },
    {
      name: 'disconnect with nothing linked (400)',
      action: 'me.disconnectGithub',
      as: 'dee',
      client: (c) => c.me.disconnectGithub(),
      expect: 400,
    },
    {
      name: 'start linking (accountd addition: plain HTTP)',
      action: 'github.connect',
      as: 'dee',
      http: () => ({ method: 'POST', path: '/me/connectGithub' }),
      expect: 200,
      needed: true,
      check: (res, ctx) => {
        const u = new URL(res.body.authorizeUrl);
        assertEq(u.origin + u.pathname, ctx.github.url + '/login/oauth/authorize', 'authorize endpoint');
        assertEq(u.searchParams.get('client_id'), ctx.githubClientID, 'client_id');
        assertEq(new URL(u.searchParams.get('redirect_uri')).pathname, '/auth/github/callback', 'redirect_uri path');
        assert(u.searchParams.get('state'), 'no state');
        ctx.ids.ghState = u.searchParams.get('state');
        ctx.ids.ghRedirect = u.searchParams.get('redirect_uri');
        ctx.github.grant(GH_CODE, GH_TOKEN, GH_USER);
      },
    },
    {
      name: 'the redirect_uri names the address the server listens on',
      action: 'github.connect',
      assert: (ctx) => assertEq(new URL(ctx.ids.ghRedirect).origin, `http://${ctx.addr}`, 'redirect_uri origin'),
    },
    callback('the callback with a state the server did not issue (400)', 400, () => ({ code: GH_CODE, state: 'forged' })),
    callback('the callback when the user refused (401)', 401, (ctx) => ({ error: 'access_denied', state: ctx.ids.ghState })),
    callback('the callback with a code GitHub does not know (401)', 401, (ctx) => ({ code: 'unknown-code', state: ctx.ids.ghState })),
    callback('the callback asks to confirm the link', 200, (ctx) => ({ code: GH_CODE, state: ctx.ids.ghState }),
      (res, ctx) => {
        assert(res.text.includes(GH_USER.login), 'the page does not name the GitHub login');
        assert(res.text.includes(ctx.users.dee.email), 'the page does not name the accountd account');
        const m = res.text.match(/name="token" value="([^"]+)"/);
        assert(m, 'the page has no confirmation form');
        ctx.ids.ghConfirm = m[1].replace(/&#43;/g, '+').replace(/&amp;/g, '&');
      }),
    {
      name: 'confirming with a token the server did not issue (400)',
      action: 'github.confirm', page: true, expect: 400,
      http: () => ({ method: 'POST', path: '/auth/github/callback', form: { token: 'k:AAAA' }, bare: true }),
    },
    {
      name: 'confirming links the account',
      action: 'github.confirm', page: true, expect: 200,
      http: (ctx) => ({ method: 'POST', path: '/auth/github/callback', form: { token: ctx.ids.ghConfirm }, bare: true }),
      check: (res) => assert(res.text.includes(GH_USER.login + ' is now linked'), 'the page does not say the account is linked'),
    },
    {
      name: 'me shows the GitHub login',
      action: 'me.get',
      as: 'dee',
      client: (c) => c.me.get(),
      expect: 200,
      check: (res) => assertEq(res.body.githubName, GH_USER.login, 'githubName'),
    },
    {
      name: 'sign in with the GitHub access token',
      action: 'auth.authenticateUserGithub',
      client: githubLogin(GH_TOKEN),
      expect: 200,
      check: (res, ctx) => {
        assertEq(res.body.userId, ctx.users.dee.id, 'userId');
        ctx.tokens.deeGithub = res.body.token;
      },
    },
    {
      name: 'the GitHub session token works',
      action: 'me.get',
      as: 'deeGithub',
      client: (c) => c.me.get(),
      expect: 200,
    },
    {
      name: 'sign in with an access token GitHub refuses',
      action: 'auth.authenticateUserGithub',
      client: githubLogin('gho_not_a_token'),
      expect: 401,
    },
    {
      name: 'disconnect GitHub',
      action: 'me.disconnectGithub',
      as: 'dee',
      client: (c) => c.me.disconnectGithub(),
      expect: 200,
      check: (res) => assert(!res.body.githubName, 'githubName is still shown'),
    },
    {
      name: 'sign in with the access token of the unlinked GitHub account',
      action: 'auth.authenticateUserGithub',
      client: githubLogin(GH_TOKEN),
      expect: 401,
    },
  ],
};
