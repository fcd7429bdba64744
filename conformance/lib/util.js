'use strict';

// Helpers the steps share: assertions, TOTP codes, the mail outbox.

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

class CheckError extends Error {}

function assert(cond, msg) {
  if (!cond) { throw new CheckError(msg); }
}

function assertEq(got, want, what) {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  if (g !== w) { throw new CheckError(`${what}: got ${g}, want ${w}`); }
}

// assertMentions checks that an error message names a field.
function assertMentions(body, field) {
  assert(body && typeof body.message === 'string', 'error body has no message');
  assert(body.message.includes(field), `error message ${JSON.stringify(body.message)} does not name ${field}`);
}

// --- TOTP (RFC 6238: SHA-1, 30 s, 6 digits), as authenticator apps do.

function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of s.replace(/=+$/, '').toUpperCase()) {
    const i = alphabet.indexOf(ch);
    if (i < 0) { throw new Error('not base32: ' + ch); }
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

function totpAt(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = crypto.createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const off = mac[mac.length - 1] & 0x0f;
  const n = ((mac[off] & 0x7f) << 24) | (mac[off + 1] << 16) | (mac[off + 2] << 8) | mac[off + 3];
  return String(n % 1000000).padStart(6, '0');
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Authenticator hands out codes for one key. A code works once: the server
// accepts only steps newer than the last one it took, from one step before
// to one step after its clock. So each code is for the step after the last
// one handed out, or the current one, waiting when that would be too far
// ahead.
class Authenticator {
  constructor(secret) {
    this.secret = secret;
    this.last = 0;
  }

  async next() {
    const now = () => Math.floor(Date.now() / 30000);
    const step = Math.max(this.last + 1, now());
    while (step > now() + 1) {
      await sleep(Math.min(1000, (step - 1) * 30000 - Date.now() + 50));
    }
    this.last = step;
    return totpAt(this.secret, step);
  }

  // wrong is a code for no step near now.
  wrong() {
    const step = Math.floor(Date.now() / 30000) + 1000;
    return totpAt(this.secret, step);
  }
}

// --- The outbox: with no SMTP host, accountd writes each message as an
// .eml file into <db folder>/outbox, named so that names sort by time.

function decodeQuotedPrintable(s) {
  return s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, h) => String.fromCharCode(parseInt(h, 16)));
}

// messagesTo lists the messages to an address, oldest first.
function messagesTo(outbox, address) {
  if (!fs.existsSync(outbox)) { return []; }
  return fs.readdirSync(outbox).filter((f) => f.endsWith('.eml')).sort().map((f) => {
    const raw = fs.readFileSync(path.join(outbox, f), 'utf8');
    const split = raw.indexOf('\r\n\r\n');
    const head = raw.slice(0, split);
    const header = (name) => ((new RegExp(`^${name}:[ \\t]*(.*)$`, 'mi').exec(head) || [])[1] || '').trim();
    const encoding = header('Content-Transfer-Encoding').toLowerCase();
    let text = raw.slice(split + 4);
    if (encoding === 'quoted-printable') {
      text = decodeQuotedPrintable(text);
    } else if (encoding === 'base64') {
      text = Buffer.from(text.replace(/\s+/g, ''), 'base64').toString('utf8');
    }
    return { file: f, to: header('To'), head, text };
  }).filter((m) => m.to.toLowerCase().includes(address.toLowerCase()));
}

// verificationLink returns the link in the newest message to address.
function verificationLink(outbox, address) {
  const msgs = messagesTo(outbox, address);
  assert(msgs.length > 0, `no message to ${address} in the outbox`);
  const m = /https?:\/\/\S+\/verify-email\?token=[A-Za-z0-9_%.~-]+/.exec(msgs[msgs.length - 1].text);
  assert(m, `the newest message to ${address} holds no verification link`);
  return new URL(m[0]);
}

module.exports = {
  CheckError, assert, assertEq, assertMentions, Authenticator, totpAt, sleep, messagesTo, verificationLink,
};
