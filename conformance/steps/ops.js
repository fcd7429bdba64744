'use strict';

// The operational endpoints: not part of the Losant API, checked for status
// only.

const { assert } = require('../lib/util');

const get = (name, action, path, check) => ({
  name, action, expect: 200, check, http: () => ({ method: 'GET', path, bare: true }),
});

module.exports = {
  title: 'operations (healthz, readyz, openapi.json)',
  steps: [
    get('liveness', 'ops.healthz', '/healthz'),
    get('readiness', 'ops.readyz', '/readyz'),
    get('the OpenAPI document', 'ops.openapi', '/openapi.json', (res) => {
      assert(res.isJSON && res.body.paths, 'not an OpenAPI document');
    }),
  ],
};
