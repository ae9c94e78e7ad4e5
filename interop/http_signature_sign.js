#!/usr/bin/env node
// Generates requests signed by the npm package http-signature (Joyent's
// reference draft-cavage signer), for interop_test.go to verify with Signet.
//
// Usage: node http_signature_sign.js '{"seed":1,"count":240,"now":1700000000}'
//        node http_signature_sign.js '{"edge":true,"now":1700000000}'
//
// With "edge", it prints instead the few requests http-signature signs in a
// way no verifier can check (COMPAT draft-cavage §2), each with "expect".
//
// Prints one JSON object per line:
//   {"name","method","target","headers":[[name,value],...],"body",
//    "key_id","secret"|"public_key_pem","algorithm","now","header_names",
//    "header_form","date_added","self_verified"}
// "header_names" is the list handed to http-signature (null when it used its
// default, ["date"]); "now" is the frozen clock in unix seconds.
//
// Everything random comes from a seeded PRNG and the clock is frozen at
// "now", so a seed reproduces the same requests (except RSA/ECDSA/ed25519 key
// material, which node generates per run; its public key is emitted).
'use strict';

const crypto = require('crypto');
const httpSignature = require('http-signature');

const args = JSON.parse(process.argv[2] || '{}');
const seed = Number.isInteger(args.seed) ? args.seed : 1;
const count = Number.isInteger(args.count) ? args.count : 240;
const now = Number.isInteger(args.now) ? args.now : 1700000000;

// Freeze the clock: http-signature reads Date.now() for (created)/(expires)
// and new Date() (through jsprim.rfc1123) when it adds a missing Date header.
const RealDate = Date;
class FrozenDate extends RealDate {
  constructor(...a) {
    if (a.length === 0) super(now * 1000);
    else super(...a);
  }

  static now() {
    return now * 1000;
  }
}
global.Date = FrozenDate;

// mulberry32: small, seedable, good enough to pick test inputs.
function prng(s) {
  let a = s >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = prng(seed);
const int = (n) => Math.floor(rand() * n);
const pick = (xs) => xs[int(xs.length)];
const chance = (p) => rand() < p;
function str(alphabet, min, max) {
  const chars = Array.from(alphabet); // code points, not UTF-16 units
  const n = min + int(max - min + 1);
  let s = '';
  for (let i = 0; i < n; i++) s += chars[int(chars.length)];
  return s;
}
function shuffle(xs) {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = int(i + 1);
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

// Characters a real HTTP client puts on the request line. Path segments use
// RFC 3986 pchar plus a few that node's http client lets through; '%' only
// appears as a valid escape in the path (a lone '%' is refused by Go's and
// most servers' request parsers) but raw in the query, as in the vectors.
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const PCHAR = ALNUM + "-._~!$&'()*+,;=:@";
const ESCAPES = ['%20', '%2F', '%25', '%C3%A9', '%E2%82%AC', '%3F', '%23', '%00'];
const QCHAR = ALNUM + "-._~!$'()*+,;:@/?%";

function segment() {
  let s = str(PCHAR, 0, 6);
  if (chance(0.3)) s += pick(ESCAPES) + str(ALNUM, 0, 2);
  return s;
}

function target() {
  let path = '';
  const n = 1 + int(4);
  for (let i = 0; i < n; i++) path += '/' + segment();
  if (chance(0.1)) path = '/' + path; // a leading "//"
  if (chance(0.1)) path += '/./..';
  if (chance(0.15)) path += '/';
  let query = null;
  if (chance(0.55)) {
    const parts = [];
    const m = int(4);
    for (let i = 0; i < m; i++) {
      const k = str(ALNUM + '-_.[]', 1, 5);
      if (chance(0.2)) parts.push(k);
      else parts.push(k + '=' + str(QCHAR, 0, 8) + (chance(0.1) ? '=' + str(ALNUM, 1, 2) : ''));
      if (chance(0.15)) parts.push(k + '=' + str(ALNUM, 0, 3)); // repeated key
    }
    query = parts.join('&');
  }
  return query === null ? path : path + '?' + query;
}

const HOSTS = ['example.com', 'api.example.org:8443', 'localhost', '127.0.0.1:8080', 'xn--bcher-kva.example', '[::1]:9000'];
const CONTENT_TYPES = ['application/json', 'text/plain; charset=utf-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary="a b"'];
const VALUE_CHARS = ALNUM + ' -_.,;:="\'()/\\[]{}?!*&^%$#@<>|`~+';

function headerValue() {
  // Interior spaces and punctuation only: http-signature signs values as
  // given while every HTTP parser trims them, so leading/trailing
  // whitespace can never verify anywhere (COMPAT draft-cavage §2).
  let v = str(VALUE_CHARS, 1, 24).trim();
  if (v === '') v = 'x';
  return v;
}

const BODY_CHARS = ALNUM + ' \n\t{}[]":,.-éü€😀\\/';
function body() {
  if (chance(0.3)) return JSON.stringify({ id: int(100000), name: str(ALNUM + ' é', 0, 12), ok: chance(0.5) });
  if (chance(0.1)) return '';
  return str(BODY_CHARS, 1, 200);
}

// One generated key pair per asymmetric algorithm.
function pkcs8(privateKey) {
  return privateKey.export({ type: 'pkcs8', format: 'pem' });
}
function spki(publicKey) {
  return publicKey.export({ type: 'spki', format: 'pem' });
}
const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = crypto.generateKeyPairSync('ed25519');
const ASYM = {
  'rsa-sha256': { priv: pkcs8(rsa.privateKey), pub: spki(rsa.publicKey) },
  'rsa-sha512': { priv: pkcs8(rsa.privateKey), pub: spki(rsa.publicKey) },
  'ecdsa-sha256': { priv: pkcs8(ec.privateKey), pub: spki(ec.publicKey) },
  'ed25519-sha512': { priv: pkcs8(ed.privateKey), pub: spki(ed.publicKey) },
};

// The four algorithms the issue names come first and most often; the other
// asymmetric ones that http-signature can produce follow.
const ALGORITHMS = [
  'hmac-sha256', 'hmac-sha256', 'hmac-sha512', 'hmac-sha512', 'hmac-sha1', 'hmac-sha1',
  'rsa-sha256', 'rsa-sha256', 'rsa-sha512', 'ecdsa-sha256', 'ed25519-sha512',
];
const METHODS = ['GET', 'GET', 'POST', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'PROPFIND'];
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE', 'PROPFIND']);

// A request object shaped the way http-signature expects from an
// http.ClientRequest: setHeader/getHeader (case-insensitive), method, path.
class FakeRequest {
  constructor(method, path) {
    this.method = method;
    this.path = path;
    this.order = []; // [canonical-case name, lower-case name]
    this.values = new Map(); // lower-case name -> string | string[]
  }

  setHeader(name, value) {
    const lower = name.toLowerCase();
    if (!this.values.has(lower)) this.order.push([name, lower]);
    this.values.set(lower, value);
  }

  getHeader(name) {
    return this.values.get(name.toLowerCase());
  }

  // The header lines as they go on the wire: an array value is sent as
  // several lines, the way node's http client does.
  wire() {
    const out = [];
    for (const [name, lower] of this.order) {
      const v = this.values.get(lower);
      if (Array.isArray(v)) for (const x of v) out.push([name, String(x)]);
      else out.push([name, String(v)]);
    }
    return out;
  }
}

function randomCase(name) {
  if (name.startsWith('(') || !chance(0.2)) return name;
  return name.replace(/(^|-)([a-z])/g, (m, p, c) => p + c.toUpperCase());
}

function selfVerifyJoined(req, c, pem, sep) {
  const headers = {};
  for (const [name, value] of req.wire()) {
    const l = name.toLowerCase();
    headers[l] = headers[l] === undefined ? value : headers[l] + sep + value;
  }
  const fake = { method: req.method, url: req.path, httpVersion: '1.1', headers };
  const parsed = httpSignature.parseRequest(fake, {
    headers: [], clockSkew: 600, authorizationHeaderName: c.header_form,
  });
  if (c.secret !== undefined) return httpSignature.verifyHMAC(parsed, c.secret);
  return httpSignature.verifySignature(parsed, pem);
}

// selfVerify checks the request with http-signature's own parser and
// verifier, which read request.headers (lower-case names, values of repeated
// headers joined by ", " as node's http server does) and request.url. It
// reports true, "comma-join" when only the signer's "a,b" join verifies
// (repeated headers: COMPAT draft-cavage §2), false, or the parser's error.
function selfVerify(req, c, pem) {
  try {
    if (selfVerifyJoined(req, c, pem, ', ')) return true;
    if (selfVerifyJoined(req, c, pem, ',')) return 'comma-join';
    return false;
  } catch (e) {
    return 'error: ' + e.message;
  }
}

// edgeCases are requests http-signature signs but nobody can verify: the
// signature is over something that is not what goes on the wire.
function edgeCases() {
  const secret = 'edge-secret';
  const mk = (name, headerNames, set, expect) => {
    const req = new FakeRequest('GET', '/edge?x=1');
    req.setHeader('Host', 'example.com');
    req.setHeader('Date', new RealDate(now * 1000).toUTCString());
    if (set) set(req);
    const opts = { keyId: 'edge', algorithm: 'hmac-sha256', key: secret, headers: headerNames };
    httpSignature.signRequest(req, opts);
    return {
      name, method: req.method, target: req.path, headers: req.wire(), body: '', key_id: 'edge',
      secret, algorithm: 'hmac-sha256', now, header_names: headerNames, header_form: 'Authorization',
      expect, date_added: false,
    };
  };
  return [
    // Signs the empty string and sends headers="", which every parser
    // (http-signature's own too) reads as "date".
    mk('empty-header-list', [], null, 'mismatch'),
    // Values are signed untrimmed; every HTTP parser trims them.
    mk('trailing-space', ['date', 'x-custom'], (r) => r.setHeader('X-Custom', 'abc '), 'mismatch'),
    mk('leading-space', ['date', 'x-custom'], (r) => r.setHeader('X-Custom', '  abc'), 'mismatch'),
  ];
}

const out = [];
if (args.edge) {
  for (const c of edgeCases()) out.push(JSON.stringify(c));
  process.stdout.write(out.join('\n') + '\n');
  process.exit(0);
}
for (let i = 0; i < count; i++) {
  // Cycle through the algorithms so every one gets its share at any count.
  const algorithm = i < ALGORITHMS.length ? ALGORITHMS[i] : pick(ALGORITHMS);
  const method = pick(METHODS);
  const tgt = target();
  const req = new FakeRequest(method, tgt);

  req.setHeader('Host', pick(HOSTS));
  const dateMissing = chance(0.15); // let http-signature add Date itself
  if (!dateMissing) {
    const offset = int(401) - 200; // within Signet's default 300 s skew
    req.setHeader('Date', new RealDate((now + offset) * 1000).toUTCString());
  }

  let b = '';
  if (BODY_METHODS.has(method) && chance(0.7)) b = body();
  const hasBody = b !== '';
  if (hasBody) {
    req.setHeader('Content-Type', pick(CONTENT_TYPES));
    req.setHeader('Content-Length', String(Buffer.byteLength(b, 'utf8')));
    const buf = Buffer.from(b, 'utf8');
    let digest = 'SHA-256=' + crypto.createHash('sha256').update(buf).digest('base64');
    if (chance(0.2)) digest += (chance(0.5) ? ',' : ', ') + 'SHA-512=' + crypto.createHash('sha512').update(buf).digest('base64');
    req.setHeader('Digest', digest);
  } else if (chance(0.1)) {
    req.setHeader('Content-Type', pick(CONTENT_TYPES));
  }
  if (chance(0.5)) {
    // A repeated header goes out as two lines; http-signature signs the
    // array as "a,b" (no space: COMPAT draft-cavage §2).
    if (chance(0.25)) req.setHeader('X-Custom', [headerValue(), headerValue()]);
    else req.setHeader('X-Custom', headerValue());
  }

  // Header names to sign: a random subset of what the request carries.
  let names = null;
  if (!chance(0.08)) { // else http-signature's default: ["date"]
    const avail = ['(request-target)', 'host', 'date'];
    if (req.getHeader('digest')) avail.push('digest');
    if (req.getHeader('content-type')) avail.push('content-type');
    if (req.getHeader('content-length') && chance(0.3)) avail.push('content-length');
    if (req.getHeader('x-custom')) avail.push('x-custom');
    names = avail.filter((h) => h === 'digest' || h === '(request-target)' || chance(0.7));
    if (chance(0.25)) names.push('(created)'); // draft 10+ parameters
    if (chance(0.2)) names.push('(expires)');
    if (names.length === 0) names.push('date');
    shuffle(names);
    names = names.map(randomCase);
  }

  const headerForm = chance(0.3) ? 'Signature' : 'Authorization';
  const keyId = str(ALNUM + '-_.:/@', 1, 16);
  const c = {
    name: String(i).padStart(3, '0') + '-' + algorithm,
    method,
    target: tgt,
    headers: null,
    body: b,
    key_id: keyId,
    algorithm,
    now,
    header_names: names,
    header_form: headerForm,
    date_added: dateMissing,
  };
  const opts = { keyId, algorithm, authorizationHeaderName: headerForm };
  if (names !== null) opts.headers = names.slice();
  if (names !== null && names.some((n) => n.toLowerCase() === '(expires)')) opts.expiresIn = 30 + int(600);
  if (algorithm.startsWith('hmac-')) {
    c.secret = str(ALNUM + '+/=-_ ', 8, 48);
    opts.key = c.secret;
  } else {
    c.public_key_pem = ASYM[algorithm].pub;
    opts.key = ASYM[algorithm].priv;
  }
  httpSignature.signRequest(req, opts);
  c.headers = req.wire();
  c.self_verified = selfVerify(req, c, c.public_key_pem);
  out.push(JSON.stringify(c));
}
process.stdout.write(out.join('\n') + '\n');
