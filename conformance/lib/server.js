'use strict';

// Starts a real accountd as a child process and runs its operator commands.

const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const readline = require('readline');

const repoRoot = path.resolve(__dirname, '..', '..');

// childEnv is our environment without ACCOUNTD_* variables, so that only
// the flags given here configure the server.
function childEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('ACCOUNTD_')) { env[k] = v; }
  }
  return env;
}

// binary returns the accountd binary to run: ACCOUNTD_BIN when run.sh built
// it, otherwise one built now into dir.
function binary(dir) {
  if (process.env.ACCOUNTD_BIN) { return process.env.ACCOUNTD_BIN; }
  const out = path.join(dir, 'accountd');
  execFileSync('go', ['build', '-o', out, './cmd/accountd'], { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
  return out;
}

// createUser runs `accountd user create` and returns the new user's id.
function createUser(bin, db, u) {
  const args = ['user', 'create', '--db', db, '--email', u.email, '--password', u.password];
  if (u.firstName) { args.push('--first-name', u.firstName); }
  if (u.lastName) { args.push('--last-name', u.lastName); }
  if (u.verified) { args.push('--verified'); }
  const out = execFileSync(bin, args, { env: childEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30000 });
  const id = out.trim().split(/\s+/).pop();
  if (!/^[a-f0-9]{24}$/i.test(id)) { throw new Error(`accountd user create printed ${JSON.stringify(out)}, not an id`); }
  return id;
}

class Server {
  constructor(bin, db, logFile) {
    this.bin = bin;
    this.db = db;
    this.logFile = logFile;
    this.lines = [];
    this.child = null;
    this.addr = null;
  }

  // start runs `accountd serve` on a free port and resolves with the
  // address from its "listening" log line.
  start(extraArgs, timeoutMs) {
    const args = ['serve', '--addr', '127.0.0.1:0', '--db', this.db, '--hash-memory', '64', '--hash-time', '1',
      '--log-format', 'json', ...(extraArgs || [])];
    const log = fs.createWriteStream(this.logFile);
    this.child = spawn(this.bin, args, { env: childEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
    const child = this.child;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`accountd did not log "listening" within ${timeoutMs} ms`)), timeoutMs);
      child.on('error', (err) => { clearTimeout(timer); reject(err); });
      child.on('exit', (code, sig) => {
        this.exited = { code, sig };
        clearTimeout(timer);
        reject(new Error(`accountd exited (code ${code}, signal ${sig}) before listening:\n${this.lines.join('\n')}`));
      });
      readline.createInterface({ input: child.stderr }).on('line', (line) => {
        log.write(line + '\n');
        this.lines.push(line);
        let rec;
        try { rec = JSON.parse(line); } catch (_) { return; }
        if (rec.msg === 'listening' && rec.addr && !this.addr) {
          this.addr = rec.addr;
          clearTimeout(timer);
          resolve(rec.addr);
        }
      });
    });
  }

  // problems lists the server's own warnings and errors, for failure reports.
  problems() {
    return this.lines.filter((l) => /"level":"(WARN|ERROR)"/.test(l));
  }

  // stop ends the server: SIGTERM, then SIGKILL if it lingers.
  stop() {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) { return Promise.resolve(); }
    this.stopping = true;
    return new Promise((resolve) => {
      const kill = setTimeout(() => { try { child.kill('SIGKILL'); } catch (_) { /* gone */ } }, 5000);
      child.once('exit', () => { clearTimeout(kill); resolve(); });
      try { child.kill('SIGTERM'); } catch (_) { clearTimeout(kill); resolve(); }
    });
  }

  // killNow is for process exit, where nothing asynchronous runs any more.
  killNow() {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      try { child.kill('SIGKILL'); } catch (_) { /* gone */ }
    }
  }
}

module.exports = { Server, binary, createUser, repoRoot };
