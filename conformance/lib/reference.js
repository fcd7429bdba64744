'use strict';

// The reference: api.json (actions, their responses per status) and the
// draft-07 schemas they point to, from the folder ACCOUNTD_REFERENCE_DIR
// names. Every response the scenario sees is checked here.

const fs = require('fs');
const path = require('path');
const Ajv = require('ajv');
const addFormats = require('ajv-formats');

// Statuses any authenticated or throttled action may answer although the
// reference lists them for few actions: reported as "not in the reference,
// expected" rather than as failures (their bodies must still be errors).
const EXPECTED_UNDOCUMENTED = new Set([401, 403, 429]);

// Actions accountd serves that api.json does not describe. Where an
// official source documents the responses, it is named here and used;
// otherwise only the status is checked (and error bodies against error.json,
// the shape every accountd error has). Nothing here comes from api.json.
const SUPPLEMENTARY = {
  // losant-rest 2.8.1 lib/api/auth.js documents it: 200 authedUser, 400/401 error.
  'auth.authenticateUserGithub': {
    source: 'losant-rest 2.8.1 docs',
    responses: { 200: 'authedUser', 400: 'error', 401: 'error' },
  },
};

// orgInvites.json and orgInvitesUser.json hold their item schema one level
// too deep ("items": {"properties": {"title": ..., "type": "object",
// "properties": {...}}}), which fails the draft-07 meta-schema, so ajv
// cannot compile them as published. repairReference lifts that inner
// schema into place for exactly those two, and only while the defect is
// there (internal/apicheck/repair.go does the same for the Go tests).
const MISNESTED_ITEMS = new Set(['orgInvites', 'orgInvitesUser']);

function repairReference(name, schema) {
  const inner = schema && schema.items && schema.items.properties;
  if (!MISNESTED_ITEMS.has(name) || !inner || inner.type !== 'object' || typeof inner.properties !== 'object') {
    return schema;
  }
  return Object.assign({}, schema, { items: inner });
}

// device.json and devices.json give a device's tags and attributes only as
// arrays, yet the device get and list actions document tagsAsObject and
// attributesAsObject, with which they are answered as objects (tag key to
// its values, attribute name to the attribute). overlayObjectForms lets
// exactly those two properties take either form, the object form built
// from the reference's own item schemas: the same overlay as
// internal/apicheck/repair.go's, where it is documented.
const OBJECT_FORM_DOCS = new Set(['device', 'devices']);

function overlayObjectForms(name, schema) {
  if (!OBJECT_FORM_DOCS.has(name)) { return schema; }
  const device = name === 'devices'
    ? schema && schema.properties && schema.properties.items && schema.properties.items.items
    : schema;
  const props = device && device.properties;
  if (!props) { return schema; }
  const tags = props.tags;
  if (tags && tags.type === 'array' && tags.items && tags.items.properties) {
    const f = tags.items.properties;
    props.tags = { oneOf: [tags, {
      type: 'object',
      propertyNames: { pattern: f.key && f.key.pattern },
      additionalProperties: { type: 'array', items: f.value },
    }] };
  }
  const attrs = props.attributes;
  if (attrs && attrs.type === 'array') {
    props.attributes = { oneOf: [attrs, { type: 'object', additionalProperties: attrs.items }] };
  }
  return schema;
}

// regExp compiles a schema pattern as ajv does, with the u flag, except a
// pattern that is invalid under it: dashboard.json's ".*{{.+}}.*" (lone
// braces) is a plain-RegExp pattern, compiled without the flag.
function regExp(pattern, flags) {
  try {
    return new RegExp(pattern, flags);
  } catch (e) {
    if (!(e instanceof SyntaxError) || !flags.includes('u')) { throw e; }
    return new RegExp(pattern, flags.replace('u', ''));
  }
}
regExp.code = 'new RegExp';

class Reference {
  constructor(dir) {
    this.dir = dir;
    this.api = JSON.parse(fs.readFileSync(path.join(dir, 'api.json'), 'utf8'));
    this.ajv = new Ajv({ strict: false, allErrors: true, code: { regExp } });
    addFormats(this.ajv);
    this.validators = new Map();
  }

  // action returns the api.json description of "resource.action", or null.
  action(name) {
    const [resource, act] = name.split('.');
    const r = this.api[resource];
    if (!r || !r.actions || !Object.prototype.hasOwnProperty.call(r.actions, act)) { return null; }
    return r.actions[act];
  }

  validator(schemaName) {
    if (!this.validators.has(schemaName)) {
      const file = path.join(this.dir, 'schemas', schemaName + '.json');
      const schema = overlayObjectForms(schemaName, repairReference(schemaName, JSON.parse(fs.readFileSync(file, 'utf8'))));
      this.validators.set(schemaName, this.ajv.compile(schema));
    }
    return this.validators.get(schemaName);
  }

  // validate returns null when body matches schemas/<schemaName>.json, or
  // a short description of the first mismatches.
  validate(schemaName, body) {
    const v = this.validator(schemaName);
    if (v(body)) { return null; }
    return v.errors.slice(0, 5).map((e) => `${e.instancePath || '(root)'} ${e.message}` +
      (e.params && e.params.additionalProperty ? ` (${e.params.additionalProperty})` : '') +
      (e.params && e.params.allowedValues ? ` ${JSON.stringify(e.params.allowedValues)}` : '')).join('; ');
  }

  // requestSchema is the schema name of the action's body parameter, if any.
  requestSchema(name) {
    const a = this.action(name);
    const p = a && (a.params || []).find((x) => x.in === 'body' && x.schema && x.schema.$ref);
    return p ? refName(p.schema.$ref) : null;
  }

  // check judges one response. It returns
  //   { ok, schema, notes: [], problem }
  // where notes collect what a reader should know (undocumented but
  // expected statuses, supplementary or unchecked actions) and problem,
  // when set, says why the response does not conform.
  check(name, status, body, isJSON) {
    const out = { ok: true, schema: null, notes: [], problem: null };
    const fail = (msg) => { out.ok = false; out.problem = out.problem ? out.problem + '; ' + msg : msg; };
    const a = this.action(name);
    let responses = null;
    if (a) {
      responses = {};
      for (const [st, r] of Object.entries(a.responses || {})) {
        responses[st] = r.schema && r.schema.$ref ? refName(r.schema.$ref) : null;
      }
    } else if (SUPPLEMENTARY[name]) {
      responses = SUPPLEMENTARY[name].responses;
      out.notes.push(`action not in the reference; responses from ${SUPPLEMENTARY[name].source}`);
    }
    const isError = status >= 400;
    let schema = null;
    if (responses === null) {
      out.notes.push('action not in the reference: status checked only' + (isError && isJSON ? ', error body against error.json' : ''));
      if (isError && isJSON) { schema = 'error'; }
    } else if (Object.prototype.hasOwnProperty.call(responses, String(status))) {
      schema = responses[String(status)];
    } else if (EXPECTED_UNDOCUMENTED.has(status)) {
      out.notes.push(`${status} not in the reference for ${name}, expected`);
      schema = 'error';
    } else {
      fail(`status ${status} is not in the reference for ${name} (documented: ${Object.keys(responses).join(', ') || 'none'})`);
      if (isError) { schema = 'error'; }
    }
    if (schema) {
      out.schema = schema;
      if (!isJSON) {
        fail(`body is not JSON (schema ${schema} expected)`);
      } else {
        const why = this.validate(schema, body);
        if (why) { fail(`body does not match ${schema}.json: ${why}`); }
      }
    }
    return out;
  }
}

function refName(ref) {
  const m = /^#\/definitions\/(.+)$/.exec(ref);
  if (!m) { throw new Error('unexpected $ref ' + ref); }
  return m[1];
}

module.exports = { Reference, EXPECTED_UNDOCUMENTED, SUPPLEMENTARY };
