'use strict';

// Two ways to call the server, both returning the same record of the
// exchange: through the official client (losant-rest 2.8.1), whose raw HTTP
// answers are captured with interceptors on the axios module the client
// itself uses, and through plain HTTP (fetch) with the headers that client
// sends, for the actions client 2.8.1 does not have.

const path = require('path');
const api = require('losant-rest');

// The axios instance losant-rest requires (same module, same interceptors).
const axios = require(require.resolve('axios', { paths: [path.dirname(require.resolve('losant-rest'))] }));

// What losant-rest 2.8.1 sends with every request (lib/api/index.js) and the
// query flags every one of its actions adds.
const CLIENT_HEADERS = { Accept: 'application/json', 'Accept-Version': '^1.20.1' };
const CLIENT_QUERY = { _actions: 'false', _links: 'true', _embedded: 'true' };

let current = null; // the exchange being recorded

axios.interceptors.request.use((cfg) => {
  if (current) {
    const headers = {};
    for (const [k, v] of Object.entries(cfg.headers || {})) {
      if (typeof v === 'string') { headers[k] = v; }
    }
    current.request = { method: String(cfg.method || 'get').toUpperCase(), url: cfg.url, query: cfg.params, headers, body: cfg.data };
  }
  return cfg;
});

function record(res) {
  if (current) { current.response = { status: res.status, headers: res.headers || {}, data: res.data }; }
}

axios.interceptors.response.use((res) => { record(res); return res; }, (err) => {
  if (err && err.response) { record(err.response); }
  return Promise.reject(err);
});

function contentType(headers) {
  if (!headers) { return ''; }
  if (typeof headers.get === 'function') { return headers.get('content-type') || ''; }
  return headers['content-type'] || '';
}

class Exchanger {
  constructor(baseURL) {
    this.baseURL = baseURL;
    this.client = api.createClient({ url: baseURL });
  }

  // viaClient runs fn(client) with the client holding token (or none).
  async viaClient(fn, token, timeoutMs) {
    if (token) { this.client.setOption('accessToken', token); } else { this.client.setOption('accessToken', undefined); }
    this.client.setOption('timeout', timeoutMs);
    current = {};
    const ex = current;
    const out = { via: 'client', clientResult: undefined, clientError: undefined };
    try {
      out.clientResult = await fn(this.client);
    } catch (err) {
      out.clientError = err;
    } finally {
      current = null;
    }
    out.request = ex.request || null;
    if (!ex.response) {
      out.status = 0;
      out.transportError = out.clientError ? String(out.clientError.message || out.clientError) : 'no response recorded';
      return out;
    }
    out.status = ex.response.status;
    out.headers = ex.response.headers;
    out.contentType = contentType(ex.response.headers);
    out.body = ex.response.data;
    out.isJSON = /json/i.test(out.contentType) && out.body !== null && typeof out.body === 'object';
    return out;
  }

  // viaHTTP sends one request with fetch. r: { method, path, query, token,
  // body (JSON), form (urlencoded), bare (no client headers or query flags) }.
  async viaHTTP(r, timeoutMs) {
    const url = new URL(r.path, this.baseURL);
    const query = Object.assign({}, r.bare ? {} : CLIENT_QUERY, r.query || {});
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined) { url.searchParams.set(k, String(v)); }
    }
    const headers = Object.assign({}, r.bare ? {} : CLIENT_HEADERS, r.headers || {});
    if (r.token) { headers.Authorization = 'Bearer ' + r.token; }
    let body;
    if (r.form) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(r.form).toString();
    } else if (r.body !== undefined) {
      headers['Content-Type'] = 'application/json;charset=utf-8';
      body = JSON.stringify(r.body);
    }
    const out = { via: 'http', request: { method: r.method, url: url.pathname + url.search, headers, body: r.form || r.body } };
    let res;
    try {
      res = await fetch(url, { method: r.method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      out.status = 0;
      out.transportError = String(err && err.message || err);
      return out;
    }
    out.status = res.status;
    out.headers = Object.fromEntries(res.headers.entries());
    out.contentType = res.headers.get('content-type') || '';
    out.text = await res.text();
    out.isJSON = false;
    out.body = out.text;
    if (/json/i.test(out.contentType)) {
      try { out.body = JSON.parse(out.text); out.isJSON = out.body !== null && typeof out.body === 'object'; } catch (_) { /* reported by the schema check */ }
    }
    return out;
  }
}

module.exports = { Exchanger, CLIENT_HEADERS, CLIENT_QUERY };
