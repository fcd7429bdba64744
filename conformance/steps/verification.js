'use strict';

// Email verification: an unverified account may only read and patch its
// profile and ask for a link (me.verifyEmail, in client 2.8.1); the link
// opens a page (GET /verify-email) whose button confirms (POST). An email
// change (me.patch with currentCredentials) makes the account unverified
// again. The messages land in the outbox beside the database.

const { assert, assertEq, assertMentions, messagesTo, verificationLink } = require('../lib/util');

const bea = { email: 'bea@example.com', password: 'Unverified-Bea-2024', firstName: 'Bea' };
const fay = { email: 'fay@example.com', password: 'Verified-Fay-2024', firstName: 'Fay', verified: true };
const fayNewEmail = 'fay.new@example.com';

const page = (name, action, expect, http, check) => ({ name, action, http, expect, page: true, check });

module.exports = {
  title: 'email verification (me.verifyEmail, me.patch email change, /verify-email pages)',
  users: { bea, fay },
  steps: [
    {
      name: 'log in to an unverified account',
      action: 'auth.authenticateUser',
      client: (c, ctx) => c.auth.authenticateUser({ credentials: { email: ctx.users.bea.email, password: ctx.users.bea.password } }),
      expect: 200,
      needed: true,
      check: (res, ctx) => {
        assertEq(res.body.needsToVerifyEmail, true, 'needsToVerifyEmail');
        ctx.tokens.bea = res.body.token;
      },
    },
    {
      name: 'an unverified account reads its profile',
      action: 'me.get',
      as: 'bea',
      client: (c) => c.me.get(),
      expect: 200,
      check: (res) => assertEq([res.body.emailVerified, res.body.needsToVerifyEmail], [false, true], 'emailVerified, needsToVerifyEmail'),
    },
    {
      name: 'an unverified account may not list its tokens',
      action: 'userApiTokens.get',
      as: 'bea',
      client: (c) => c.userApiTokens.get(),
      expect: 403,
    },
    {
      name: 'ask for a verification message',
      action: 'me.verifyEmail',
      as: 'bea',
      client: (c) => c.me.verifyEmail(),
      expect: 200,
      needed: true,
      check: (res, ctx) => {
        assertEq(res.body, { success: true }, 'body');
        assert(messagesTo(ctx.outbox, ctx.users.bea.email).length === 1, 'no message to bea in the outbox');
      },
    },
    {
      name: 'the link in the message points at the server',
      action: 'me.verifyEmail',
      assert: (ctx) => assertEq(verificationLink(ctx.outbox, ctx.users.bea.email).origin, `http://${ctx.addr}`, 'link origin'),
    },
    page('open the link', 'emailVerification.page', 200, (ctx) => {
      ctx.ids.beaLink = verificationLink(ctx.outbox, ctx.users.bea.email);
      return { method: 'GET', path: ctx.ids.beaLink.pathname + ctx.ids.beaLink.search, bare: true };
    }, (res, ctx) => {
      assert(res.text.includes(ctx.users.bea.email), 'the page does not name the address');
      assert(res.text.includes('method="post"'), 'the page has no confirmation form');
    }),
    page('confirm on the page', 'emailVerification.confirm', 200, (ctx) => ({
      method: 'POST', path: '/verify-email', form: { token: ctx.ids.beaLink.searchParams.get('token') }, bare: true,
    })),
    page('confirm with the used link again', 'emailVerification.confirm', 404, (ctx) => ({
      method: 'POST', path: '/verify-email', form: { token: ctx.ids.beaLink.searchParams.get('token') }, bare: true,
    })),
    page('open a link with an unknown token', 'emailVerification.page', 404, () => ({
      method: 'GET', path: '/verify-email?token=not-a-token', bare: true,
    })),
    {
      name: 'the account is verified',
      action: 'me.get',
      as: 'bea',
      client: (c) => c.me.get(),
      expect: 200,
      check: (res) => assertEq([res.body.emailVerified, res.body.needsToVerifyEmail], [true, false], 'emailVerified, needsToVerifyEmail'),
    },
    {
      name: 'ask for a message once verified (400 names email)',
      action: 'me.verifyEmail',
      as: 'bea',
      client: (c) => c.me.verifyEmail(),
      expect: 400,
      check: (res) => assertMentions(res.body, 'email'),
    },
    {
      name: 'a verified account lists its tokens',
      action: 'userApiTokens.get',
      as: 'bea',
      client: (c) => c.userApiTokens.get(),
      expect: 200,
      check: (res) => 'the reference gives this collection the single apiToken schema',
    },
    {
      name: 'log in to a verified account',
      action: 'auth.authenticateUser',
      client: (c, ctx) => c.auth.authenticateUser({ credentials: { email: ctx.users.fay.email, password: ctx.users.fay.password } }),
      expect: 200,
      needed: true,
      check: (res, ctx) => { ctx.tokens.fay = res.body.token; },
    },
    {
      name: 'change the email with a wrong current password (400 names currentCredentials.password)',
      action: 'me.patch',
      as: 'fay',
      client: (c) => c.me.patch({ user: { email: fayNewEmail, currentCredentials: { password: 'Not-The-Password-1' } } }),
      expect: 400,
      check: (res) => assertMentions(res.body, 'currentCredentials.password'),
    },
    {
      name: 'change the email with currentCredentials',
      action: 'me.patch',
      as: 'fay',
      client: (c, ctx) => c.me.patch({ user: { email: fayNewEmail, currentCredentials: { password: ctx.users.fay.password } } }),
      expect: 200,
      needed: true,
      check: (res, ctx) => {
        assertEq([res.body.email, res.body.emailVerified], [fayNewEmail, false], 'email, emailVerified');
        const oldEmail = ctx.users.fay.email;
        ctx.users.fay.email = fayNewEmail;
        // one verification message to the new address; the security
        // notice of the change goes to both addresses
        const verifications = messagesTo(ctx.outbox, fayNewEmail).filter((m) => m.text.includes('/verify-email'));
        assert(verifications.length === 1, `${verifications.length} verification messages to the new address in the outbox, want 1`);
        assert(messagesTo(ctx.outbox, oldEmail).some((m) => /email/i.test(m.head) && m.text.includes(fayNewEmail)),
          'no notice of the change to the old address');
      },
    },
    {
      name: 'with the new address unverified, the tokens are out of reach',
      action: 'userApiTokens.get',
      as: 'fay',
      client: (c) => c.userApiTokens.get(),
      expect: 403,
    },
    {
      name: 'log in with the new address',
      action: 'auth.authenticateUser',
      client: (c, ctx) => c.auth.authenticateUser({ credentials: { email: ctx.users.fay.email, password: ctx.users.fay.password } }),
      expect: 200,
      check: (res) => assertEq(res.body.needsToVerifyEmail, true, 'needsToVerifyEmail'),
    },
    page('confirm the new address from its message', 'emailVerification.confirm', 200, (ctx) => ({
      method: 'POST', path: '/verify-email', form: { token: verificationLink(ctx.outbox, fayNewEmail).searchParams.get('token') }, bare: true,
    }), (res) => assert(res.text.includes(fayNewEmail), 'the page does not name the address')),
    {
      name: 'the new address is verified',
      action: 'me.get',
      as: 'fay',
      client: (c) => c.me.get(),
      expect: 200,
      check: (res) => assertEq([res.body.email, res.body.emailVerified], [fayNewEmail, true], 'email, emailVerified'),
    },
  ],
};
