'use strict';

// Personal API tokens: create, list (sort, page, filter), read, deactivate,
// reactivate, delete; scopes; all through the official client.

const { assert, assertEq, assertMentions } = require('../lib/util');

const UNKNOWN_ID = '0123456789abcdef01234567';
const expiry = new Date(Date.now() + 30 * 24 * 3600 * 1000);
expiry.setUTCMilliseconds(0);
const EXPIRES = expiry.toISOString();

// items checks a collection answer: the reference gives userApiTokens.get
// the single apiToken schema, which any object passes, so each item is
// checked against apiToken here as well.
function items(res, ctx) {
  const b = res.body;
  assert(Array.isArray(b.items), 'no items array in the list answer');
  b.items.forEach((it, i) => {
    const why = ctx.ref.validate('apiToken', it);
    assert(!why, `items[${i}] does not match apiToken.json: ${why}`);
    assert(!('token' in it), `items[${i}] shows the token value`);
  });
  return b.items;
}

const LIST_NOTE = 'the reference gives this collection the single apiToken schema; each item checked against apiToken.json too';

module.exports = {
  title: 'API tokens (userApiTokens.get/post, userApiToken.get/patch/delete)',
  steps: [
    {
      name: 'create a token scoped to me.get, with description and expirationDate',
      action: 'userApiTokens.post',
      as: 'ada',
      client: (c) => c.userApiTokens.post({
        apiToken: { name: 'conformance reader', description: 'reads the profile', scope: ['me.get'], expirationDate: EXPIRES },
      }),
      expect: 201,
      needed: true,
      check: (res, ctx) => {
        const b = res.body;
        assertEq([b.name, b.description, b.scope, b.status, b.expirationDate], ['conformance reader', 'reads the profile', ['me.get'], 'active', EXPIRES],
          'name, description, scope, status, expirationDate');
        assertEq([b.ownerId, b.ownerType], [ctx.users.ada.id, 'user'], 'owner');
        assert(typeof b.token === 'string' && b.token.length > 0, 'the answer shows no token value');
        ctx.ids.reader = b.id;
        ctx.tokens.reader = b.token;
      },
    },
    {
      name: 'create a token scoped to userApiTokens.get',
      action: 'userApiTokens.post',
      as: 'ada',
      client: (c) => c.userApiTokens.post({ apiToken: { name: 'conformance lister', scope: ['userApiTokens.get'] } }),
      expect: 201,
      needed: true,
      check: (res, ctx) => {
        ctx.ids.lister = res.body.id;
        ctx.tokens.lister = res.body.token;
      },
    },
    {
      name: 'create a token scoped to userApiTokens.post',
      action: 'userApiTokens.post',
      as: 'ada',
      client: (c) => c.userApiTokens.post({ apiToken: { name: 'conformance minter', scope: ['userApiTokens.post'] } }),
      expect: 201,
      check: (res, ctx) => { ctx.tokens.minter = res.body.token; ctx.ids.minter = res.body.id; },
    },
    {
      name: 'create a token with an empty name (400 names name)',
      action: 'userApiTokens.post',
      as: 'ada',
      client: (c) => c.userApiTokens.post({ apiToken: { name: '', scope: ['me.get'] } }),
      expect: 400,
      check: (res) => assertMentions(res.body, 'name'),
    },
    {
      name: 'create a token with an unknown scope (400 names scope)',
      action: 'userApiTokens.post',
      as: 'ada',
      client: (c) => c.userApiTokens.post({ apiToken: { name: 'bad scope', scope: ['no.such.scope'] } }),
      expect: 400,
      check: (res) => assertMentions(res.body, 'scope'),
    },
    {
      name: 'create a token that expired already (400 names expirationDate)',
      action: 'userApiTokens.post',
      as: 'ada',
      client: (c) => c.userApiTokens.post({ apiToken: { name: 'stale', scope: ['me.get'], expirationDate: '2001-01-01T00:00:00.000Z' } }),
      expect: 400,
      check: (res) => assertMentions(res.body, 'expirationDate'),
    },
    {
      name: 'a token scoped to userApiTokens.post cannot mint a wider token',
      action: 'userApiTokens.post',
      as: 'minter',
      client: (c) => c.userApiTokens.post({ apiToken: { name: 'wider', scope: ['all.User'] } }),
      expect: 403,
    },
    {
      name: 'list the tokens',
      action: 'userApiTokens.get',
      as: 'ada',
      client: (c) => c.userApiTokens.get(),
      expect: 200,
      check: (res, ctx) => {
        assertEq(items(res, ctx).map((t) => t.name), ['conformance lister', 'conformance minter', 'conformance reader'], 'names (default sort: name asc)');
        return LIST_NOTE;
      },
    },
    {
      name: 'list sorted by name desc, page 0, perPage 1',
      action: 'userApiTokens.get',
      as: 'ada',
      client: (c) => c.userApiTokens.get({ sortField: 'name', sortDirection: 'desc', page: 0, perPage: 1 }),
      expect: 200,
      check: (res, ctx) => {
        const it = items(res, ctx);
        assertEq(it.map((t) => t.name), ['conformance reader'], 'names');
        assertEq([res.body.page, res.body.perPage, res.body.count, res.body.totalCount, res.body.sortField, res.body.sortDirection],
          [0, 1, 1, 3, 'name', 'desc'], 'page, perPage, count, totalCount, sortField, sortDirection');
        return LIST_NOTE;
      },
    },
    {
      name: 'list sorted by name desc, page 2, perPage 1',
      action: 'userApiTokens.get',
      as: 'ada',
      client: (c) => c.userApiTokens.get({ sortField: 'name', sortDirection: 'desc', page: 2, perPage: 1 }),
      expect: 200,
      check: (res, ctx) => {
        assertEq(items(res, ctx).map((t) => t.name), ['conformance lister'], 'names');
        return LIST_NOTE;
      },
    },
    {
      name: 'list filtered by name conf*READ* (glob, case-insensitive)',
      action: 'userApiTokens.get',
      as: 'ada',
      client: (c) => c.userApiTokens.get({ filterField: 'name', filter: 'conf*READ*' }),
      expect: 200,
      check: (res, ctx) => {
        assertEq(items(res, ctx).map((t) => t.id), [ctx.ids.reader], 'ids');
        return LIST_NOTE;
      },
    },
    {
      name: 'list filtered by status inactive (none yet)',
      action: 'userApiTokens.get',
      as: 'ada',
      client: (c) => c.userApiTokens.get({ filterField: 'status', filter: 'inactive' }),
      expect: 200,
      check: (res, ctx) => {
        assertEq(items(res, ctx).length, 0, 'items');
        return LIST_NOTE;
      },
    },
    {
      name: 'list sorted by a field that does not exist (400 names sortField)',
      action: 'userApiTokens.get',
      as: 'ada',
      client: (c) => c.userApiTokens.get({ sortField: 'colour' }),
      expect: 400,
      check: (res) => assertMentions(res.body, 'sortField'),
    },
    {
      name: 'list with perPage 1001, over the limit (400 names perPage)',
      action: 'userApiTokens.get',
      as: 'ada',
      client: (c) => c.userApiTokens.get({ perPage: 1001 }),
      expect: 400,
      check: (res) => assertMentions(res.body, 'perPage'),
    },
    {
      name: 'read one token',
      action: 'userApiToken.get',
      as: 'ada',
      client: (c, ctx) => c.userApiToken.get({ apiTokenId: ctx.ids.reader }),
      expect: 200,
      check: (res, ctx) => {
        assertEq([res.body.id, res.body.name, res.body.scope], [ctx.ids.reader, 'conformance reader', ['me.get']], 'id, name, scope');
        assert(!('token' in res.body), 'the answer shows the token value again');
      },
    },
    {
      name: 'read a token id that does not exist',
      action: 'userApiToken.get',
      as: 'ada',
      client: (c) => c.userApiToken.get({ apiTokenId: UNKNOWN_ID }),
      expect: 404,
    },
    {
      name: 'read a malformed token id (400 names apiTokenId)',
      action: 'userApiToken.get',
      as: 'ada',
      client: (c) => c.userApiToken.get({ apiTokenId: 'not-an-id' }),
      expect: 400,
      check: (res) => assertMentions(res.body, 'apiTokenId'),
    },
    {
      name: 'the me.get token reads the profile',
      action: 'me.get',
      as: 'reader',
      client: (c) => c.me.get(),
      expect: 200,
      check: (res, ctx) => assertEq(res.body.id, ctx.users.ada.id, 'id'),
    },
    {
      name: 'the me.get token may not patch the profile',
      action: 'me.patch',
      as: 'reader',
      client: (c) => c.me.patch({ user: { title: 'x' } }),
      expect: 403,
    },
    {
      name: 'the userApiTokens.get token lists the tokens',
      action: 'userApiTokens.get',
      as: 'lister',
      client: (c) => c.userApiTokens.get(),
      expect: 200,
      check: (res, ctx) => { items(res, ctx); return LIST_NOTE; },
    },
    {
      name: 'the userApiTokens.get token may not read one token',
      action: 'userApiToken.get',
      as: 'lister',
      client: (c, ctx) => c.userApiToken.get({ apiTokenId: ctx.ids.reader }),
      expect: 403,
    },
    {
      name: 'the userApiTokens.get token may not create tokens',
      action: 'userApiTokens.post',
      as: 'lister',
      client: (c) => c.userApiTokens.post({ apiToken: { name: 'more', scope: ['me.get'] } }),
      expect: 403,
    },
    {
      name: 'deactivate the me.get token',
      action: 'userApiToken.patch',
      as: 'ada',
      client: (c, ctx) => c.userApiToken.patch({ apiTokenId: ctx.ids.reader, apiToken: { status: 'inactive' } }),
      expect: 200,
      check: (res) => assertEq(res.body.status, 'inactive', 'status'),
    },
    {
      name: 'the deactivated token is refused',
      action: 'me.get',
      as: 'reader',
      client: (c) => c.me.get(),
      expect: 401,
    },
    {
      name: 'list filtered by status inactive',
      action: 'userApiTokens.get',
      as: 'ada',
      client: (c) => c.userApiTokens.get({ filterField: 'status', filter: 'inactive' }),
      expect: 200,
      check: (res, ctx) => {
        assertEq(items(res, ctx).map((t) => t.id), [ctx.ids.reader], 'ids');
        return LIST_NOTE;
      },
    },
    {
      name: 'reactivate it, renaming it and changing its description',
      action: 'userApiToken.patch',
      as: 'ada',
      client: (c, ctx) => c.userApiToken.patch({
        apiTokenId: ctx.ids.reader, apiToken: { status: 'active', name: 'conformance reader 2', description: 'renamed' },
      }),
      expect: 200,
      check: (res) => assertEq([res.body.status, res.body.name, res.body.description], ['active', 'conformance reader 2', 'renamed'], 'status, name, description'),
    },
    {
      name: 'the reactivated token works again',
      action: 'me.get',
      as: 'reader',
      client: (c) => c.me.get(),
      expect: 200,
    },
    {
      name: 'patch a status that does not exist (400 names status)',
      action: 'userApiToken.patch',
      as: 'ada',
      client: (c, ctx) => c.userApiToken.patch({ apiTokenId: ctx.ids.reader, apiToken: { status: 'paused' } }),
      expect: 400,
      check: (res) => assertMentions(res.body, 'status'),
    },
    {
      name: 'patch a token id that does not exist',
      action: 'userApiToken.patch',
      as: 'ada',
      client: (c) => c.userApiToken.patch({ apiTokenId: UNKNOWN_ID, apiToken: { name: 'x' } }),
      expect: 404,
    },
    {
      name: 'delete the me.get token',
      action: 'userApiToken.delete',
      as: 'ada',
      client: (c, ctx) => c.userApiToken.delete({ apiTokenId: ctx.ids.reader }),
      expect: 200,
      check: (res) => assertEq(res.body, { success: true }, 'body'),
    },
    {
      name: 'the deleted token is refused',
      action: 'me.get',
      as: 'reader',
      client: (c) => c.me.get(),
      expect: 401,
    },
    {
      name: 'the deleted token is gone',
      action: 'userApiToken.get',
      as: 'ada',
      client: (c, ctx) => c.userApiToken.get({ apiTokenId: ctx.ids.reader }),
      expect: 404,
    },
    {
      name: 'delete it again',
      action: 'userApiToken.delete',
      as: 'ada',
      client: (c, ctx) => c.userApiToken.delete({ apiTokenId: ctx.ids.reader }),
      expect: 404,
    },
  ],
};
