'use strict';

// A stand-in for GitHub's OAuth endpoints and GET /user, so the GitHub
// actions run end to end without the network. accountd is pointed at it
// with --github-auth-url, --github-token-url and --github-api-url.

const http = require('http');

class FakeGithub {
  constructor() {
    this.codes = new Map(); // authorization code -> access token
    this.users = new Map(); // access token -> { id, login }
    this.exchanges = [];
  }

  // grant makes code trade for an access token of the GitHub user.
  grant(code, accessToken, user) {
    this.codes.set(code, accessToken);
    this.users.set(accessToken, user);
  }

  start() {
    this.server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => { raw += c; });
      req.on('end', () => this.handle(req, res, raw));
    });
    return new Promise((resolve) => {
      this.server.listen(0, '127.0.0.1', () => {
        this.url = `http://127.0.0.1:${this.server.address().port}`;
        resolve(this.url);
      });
    });
  }

  handle(req, res, raw) {
    const url = new URL(req.url, 'http://x');
    const send = (status, body) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'POST' && url.pathname === '/login/oauth/access_token') {
      const form = new URLSearchParams(raw);
      this.exchanges.push(Object.fromEntries(form.entries()));
      const tok = this.codes.get(form.get('code'));
      if (!tok) { return send(200, { error: 'bad_verification_code', error_description: 'The code passed is incorrect or expired.' }); }
      this.codes.delete(form.get('code'));
      return send(200, { access_token: tok, token_type: 'bearer', scope: 'read:user' });
    }
    if (req.method === 'GET' && url.pathname === '/user') {
      const m = /^Bearer (.+)$/.exec(req.headers.authorization || '');
      const u = m && this.users.get(m[1]);
      if (!u) { return send(401, { message: 'Bad credentials' }); }
      return send(200, u);
    }
    return send(404, { message: 'Not Found' });
  }

  stop() {
    if (this.server) {
      this.server.closeAllConnections();
      this.server.close();
    }
  }
}

module.exports = { FakeGithub };
