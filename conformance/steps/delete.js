'use strict';

// Deleting the account, last: afterwards its tokens and its password are
// refused.

const { assertEq, assertMentions } = require('../lib/util');

module.exports = {
  title: 'deleting the account (me.delete)',
  steps: [
    {
      name: 'delete with another account\'s email (400 names email)',
      action: 'me.delete',
      as: 'ada',
      client: (c, ctx) => c.me.delete({ credentials: { email: 'someone.else@example.com', password: ctx.users.ada.password } }),
      expect: 400,
      check: (res) => assertMentions(res.body, 'email'),
    },
    {
      name: 'delete without a password (400 names password)',
      action: 'me.delete',
      as: 'ada',
      client: (c, ctx) => c.me.delete({ credentials: { email: ctx.users.ada.email } }),
      expect: 400,
      check: (res) => assertMentions(res.body, 'password'),
    },
    {
      name: 'delete the account',
      action: 'me.delete',
      as: 'ada',
      client: (c, ctx) => c.me.delete({ credentials: { email: ctx.users.ada.email, password: ctx.users.ada.password } }),
      expect: 200,
      needed: true,
      check: (res) => assertEq(res.body, { success: true }, 'body'),
    },
    {
      name: 'the deleted account\'s session token is refused',
      action: 'me.get',
      as: 'ada',
      client: (c) => c.me.get(),
      expect: 401,
    },
    {
      name: 'the deleted account\'s API token is refused',
      action: 'userApiTokens.get',
      as: 'lister',
      client: (c) => c.userApiTokens.get(),
      expect: 401,
    },
    {
      name: 'the deleted account cannot log in',
      action: 'auth.authenticateUser',
      client: (c, ctx) => c.auth.authenticateUser({ credentials: { email: ctx.users.ada.email, password: ctx.users.ada.password } }),
      expect: 401,
    },
  ],
};
