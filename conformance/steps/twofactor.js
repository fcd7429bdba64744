'use strict';

// Two-factor authentication. Client 2.8.1 has me.enableTwoFactorAuth and
// me.disableTwoFactorAuth but not me.generateTwoFactorAuth (newer), nor
// accountd's own recoveryCodes.regenerate (POST /me/recoveryCodes): those
// two go over plain HTTP.
// TOTP codes are single-use per 30 s step, so after the first two codes the
// steps use recovery codes.

const { assert, assertEq, assertMentions, Authenticator } = require('../lib/util');

const cy = { email: 'cy@example.com', password: 'Second-Factor-Cy-1', firstName: 'Cy', verified: true };

const login = (extra) => (c, ctx) => c.auth.authenticateUser({
  credentials: Object.assign({ email: ctx.users.cy.email, password: ctx.users.cy.password }, extra || {}),
});

module.exports = {
  title: 'two-factor authentication (me.generateTwoFactorAuth, me.enableTwoFactorAuth, me.disableTwoFactorAuth, recoveryCodes.regenerate)',
  users: { cy },
  steps: [
    {
      name: 'log in',
      action: 'auth.authenticateUser',
      client: login(),
      expect: 200,
      needed: true,
      check: (res, ctx) => { ctx.tokens.cy = res.body.token; },
    },
    {
      name: 'enable before generating a key (400)',
      action: 'me.enableTwoFactorAuth',
      as: 'cy',
      client: (c, ctx) => c.me.enableTwoFactorAuth({ data: { password: ctx.users.cy.password, twoFactorCode: '123456' } }),
      expect: 400,
    },
    {
      name: 'generate a key (not in client 2.8.1: plain HTTP)',
      action: 'me.generateTwoFactorAuth',
      as: 'cy',
      http: () => ({ method: 'PATCH', path: '/me/generateTwoFactorAuth' }),
      expect: 200,
      needed: true,
      check: (res, ctx) => {
        assert(/^[A-Z2-7]{52}$/.test(res.body.key), `key ${JSON.stringify(res.body.key)} is not 52 base32 characters`);
        assert(/^otpauth:\/\/totp\//.test(res.body.keyUri), `keyUri ${JSON.stringify(res.body.keyUri)} is not otpauth://totp/...`);
        assert(new URL(res.body.keyUri).searchParams.get('secret') === res.body.key, 'keyUri does not carry the key');
        ctx.ids.cyKey = res.body.key;
        ctx.auth.cy = new Authenticator(res.body.key);
      },
    },
    {
      name: 'enable with a wrong code (400 names twoFactorCode)',
      action: 'me.enableTwoFactorAuth',
      as: 'cy',
      client: (c, ctx) => c.me.enableTwoFactorAuth({ data: { password: ctx.users.cy.password, twoFactorCode: ctx.auth.cy.wrong() } }),
      expect: 400,
      check: (res) => assertMentions(res.body, 'twoFactorCode'),
    },
    {
      name: 'enable without a code (400 names twoFactorCode)',
      action: 'me.enableTwoFactorAuth',
      as: 'cy',
      client: (c, ctx) => c.me.enableTwoFactorAuth({ data: { password: ctx.users.cy.password } }),
      expect: 400,
      check: (res) => assertMentions(res.body, 'twoFactorCode'),
    },
    {
      name: 'enable with the key and a current code',
      action: 'me.enableTwoFactorAuth',
      as: 'cy',
      client: async (c, ctx) => c.me.enableTwoFactorAuth({
        data: { password: ctx.users.cy.password, twoFactorCode: await ctx.auth.cy.next(), twoFactorAuthKey: ctx.ids.cyKey },
      }),
      expect: 200,
      needed: true,
      check: (res, ctx) => {
        assertEq(res.body.twoFactorAuthEnabled, true, 'twoFactorAuthEnabled');
        const codes = res.body.recoveryCodes;
        assert(Array.isArray(codes) && codes.length === 10, 'the answer lacks the 10 recovery codes');
        ctx.ids.cyCodes = codes.slice();
        return 'recoveryCodes: an accountd addition to me.json (allowed: the schema is open)';
      },
    },
    {
      name: 'generate a key while enabled (400)',
      action: 'me.generateTwoFactorAuth',
      as: 'cy',
      http: () => ({ method: 'PATCH', path: '/me/generateTwoFactorAuth' }),
      expect: 400,
    },
    {
      name: 'me shows two-factor auth on',
      action: 'me.get',
      as: 'cy',
      client: (c) => c.me.get(),
      expect: 200,
      check: (res) => assertEq(res.body.twoFactorAuthEnabled, true, 'twoFactorAuthEnabled'),
    },
    {
      name: 'log in without a code (401 names twoFactorCode)',
      action: 'auth.authenticateUser',
      client: login(),
      expect: 401,
      check: (res) => assertMentions(res.body, 'twoFactorCode'),
    },
    {
      name: 'log in with a TOTP code',
      action: 'auth.authenticateUser',
      client: async (c, ctx) => login({ twoFactorCode: await ctx.auth.cy.next() })(c, ctx),
      expect: 200,
      check: (res, ctx) => { ctx.tokens.cy = res.body.token; },
    },
    {
      name: 'log in with a recovery code',
      action: 'auth.authenticateUser',
      client: (c, ctx) => login({ twoFactorCode: ctx.ids.cyCodes[0] })(c, ctx),
      expect: 200,
    },
    {
      name: 'log in with the same recovery code again',
      action: 'auth.authenticateUser',
      client: (c, ctx) => login({ twoFactorCode: ctx.ids.cyCodes[0] })(c, ctx),
      expect: 401,
    },
    {
      name: 'regenerate the recovery codes (accountd addition: plain HTTP)',
      action: 'recoveryCodes.regenerate',
      as: 'cy',
      http: (ctx) => ({ method: 'POST', path: '/me/recoveryCodes', body: { password: ctx.users.cy.password, twoFactorCode: ctx.ids.cyCodes[1] } }),
      expect: 200,
      check: (res, ctx) => {
        const codes = res.body.recoveryCodes;
        assert(Array.isArray(codes) && codes.length === 10, 'the answer lacks 10 recovery codes');
        assert(!codes.includes(ctx.ids.cyCodes[2]), 'an old code is among the new ones');
        ctx.ids.cyOldCodes = ctx.ids.cyCodes;
        ctx.ids.cyCodes = codes.slice();
      },
    },
    {
      name: 'change the password without a code (400 names twoFactorCode)',
      action: 'me.changePassword',
      as: 'cy',
      client: (c, ctx) => c.me.changePassword({ data: { password: ctx.users.cy.password, newPassword: 'Second-Factor-Cy-2' } }),
      expect: 400,
      check: (res) => assertMentions(res.body, 'twoFactorCode'),
    },
    {
      name: 'disable with a recovery code the regeneration replaced (400 names twoFactorCode)',
      action: 'me.disableTwoFactorAuth',
      as: 'cy',
      client: (c, ctx) => c.me.disableTwoFactorAuth({ data: { password: ctx.users.cy.password, twoFactorCode: ctx.ids.cyOldCodes[2] } }),
      expect: 400,
      check: (res) => assertMentions(res.body, 'twoFactorCode'),
    },
    {
      name: 'disable with a new recovery code',
      action: 'me.disableTwoFactorAuth',
      as: 'cy',
      client: (c, ctx) => c.me.disableTwoFactorAuth({ data: { password: ctx.users.cy.password, twoFactorCode: ctx.ids.cyCodes[0] } }),
      expect: 200,
      check: (res) => assertEq(res.body.twoFactorAuthEnabled, false, 'twoFactorAuthEnabled'),
    },
    {
      name: 'disable again (400)',
      action: 'me.disableTwoFactorAuth',
      as: 'cy',
      client: (c, ctx) => c.me.disableTwoFactorAuth({ data: { password: ctx.users.cy.password, twoFactorCode: ctx.ids.cyCodes[1] } }),
      expect: 400,
    },
    {
      name: 'regenerate recovery codes with two-factor auth off (400)',
      action: 'recoveryCodes.regenerate',
      as: 'cy',
      http: (ctx) => ({ method: 'POST', path: '/me/recoveryCodes', body: { password: ctx.users.cy.password, twoFactorCode: ctx.ids.cyCodes[1] } }),
      expect: 400,
    },
    {
      name: 'log in without a code again',
      action: 'auth.authenticateUser',
      client: login(),
      expect: 200,
    },
  ],
};
