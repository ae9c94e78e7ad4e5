#!/usr/bin/env node
// Generates requests signed by the npm SigV4 signers, for sigv4_test.go to
// verify with Signet: @smithy/signature-v4 5.7.5 ("smithy") and the old
// @aws-sdk/signature-v4 3.374 ("aws-sdk", which is smithy 1.1 underneath and
// differs in path escaping and query order; COMPAT.md, AWS SigV4).
//
// Usage: node sigv4_sign.js '{"seed":1,"count":120,"now":1700000000}'
//
// Prints one JSON object per line:
//   {"name","pkg","op","method","target","headers":[[name,value],...],"body",
//    "key_id","secret","region","service","uri_escape_path","now",
//    "unsigned_payload"}
// "target" is the request-target as an HTTP client sends it: the path the
// signer was given, percent-encoded where a request line needs it (the
// signer gets an already-encoded path half of the time, as AWS SDK clients
// give it, and a raw path otherwise), then the query. Each package signs
// "count" header-signed and "count" pre-signed requests.
'use strict';

const crypto = require('crypto');
const { SignatureV4: Smithy } = require('@smithy/signature-v4');
const { SignatureV4: Legacy } = require('@aws-sdk/signature-v4');

const args = JSON.parse(process.argv[2] || '{}');
const seed = Number.isInteger(args.seed) ? args.seed : 1;
const count = Number.isInteger(args.count) ? args.count : 120;
const now = Number.isInteger(args.now) ? args.now : 1700000000;

// Hash and HMAC for the signers, from node's crypto.
class Sha256 {
  constructor(secret) {
    this.h = secret ? crypto.createHmac('sha256', Buffer.from(secret)) : crypto.createHash('sha256');
  }
  update(data) {
    this.h.update(typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data));
  }
  async digest() {
    return new Uint8Array(this.h.digest());
  }
}

// mulberry32: a small seeded PRNG, so a seed reproduces the same requests.
function prng(a) {
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = prng(seed);
const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
const chance = (p) => rnd() < p;
function str(alphabet, min, max) {
  const n = min + Math.floor(rnd() * (max - min + 1));
  let s = '';
  for (let i = 0; i < n; i++) s += pick(alphabet);
  return s;
}

const segChars = [...'abcXYZ019-._~', ' ', '!', '*', "'", '(', ')', '+', '@', ':', ',', '=', '$', '&', ';', 'é', 'ü', '😀'];
const qChars = [...'abcXYZ019-._~', ' ', '!', '*', "'", '(', ')', '+', '/', '?', '&', '=', '%', 'é', '😀', ''];

// awsEncode is what AWS SDK serializers do to path segments.
const awsEncode = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

// wireEncode percent-encodes what a request line cannot carry (non-ASCII,
// controls, space, "#<>?`{}|\^), as an HTTP client does with a raw path.
function wireEncode(p) {
  let out = '';
  for (const b of Buffer.from(p, 'utf8')) {
    const c = String.fromCharCode(b);
    if (b <= 0x20 || b >= 0x7f || '"#<>?`{}|\\^'.includes(c)) out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
    else out += c;
  }
  return out;
}

function randomPath(encoded) {
  const n = Math.floor(rnd() * 4);
  const segs = [];
  for (let i = 0; i < n; i++) {
    if (chance(0.12)) segs.push(pick(['.', '..', '']));
    else {
      const s = str(segChars, 1, 6);
      segs.push(encoded ? awsEncode(s) : s);
    }
  }
  let p = '/' + segs.join('/');
  if (chance(0.2)) p += '/';
  return p;
}

function randomQuery() {
  const q = {};
  const n = Math.floor(rnd() * 4);
  for (let i = 0; i < n; i++) {
    const k = str(qChars, 1, 4);
    if (k === '' || k.toLowerCase().startsWith('x-amz-')) continue;
    q[k] = chance(0.25) ? [str(qChars, 0, 4), str(qChars, 0, 4)] : str(qChars, 0, 5);
  }
  return q;
}

function queryString(q) {
  const parts = [];
  for (const [k, v] of Object.entries(q)) {
    for (const x of Array.isArray(v) ? v : [v]) parts.push(awsEncode(k) + '=' + awsEncode(x));
  }
  return parts.join('&');
}

function randomHeaders(host) {
  const h = { host };
  if (chance(0.5)) h['Content-Type'] = pick(['application/json', 'text/plain;  charset=utf-8']);
  if (chance(0.6)) h['X-Custom'] = pick(['  a \t b   c  ', 'plain', 'x,y', str([...'abc '], 1, 8).trim() || 'z']);
  if (chance(0.3)) h['X-Amz-Meta-Foo'] = str([...'abc01 '], 1, 6).trim() || 'm';
  if (chance(0.2)) h['User-Agent'] = 'interop/1.0';
  if (chance(0.2)) h['Cache-Control'] = 'no-cache';
  return h;
}

const packages = [
  ['smithy', Smithy],
  ['aws-sdk', Legacy],
];

async function main() {
  for (const [pkg, SignatureV4] of packages) {
    for (const op of ['sign', 'presign']) {
      for (let i = 0; i < count; i++) {
        const encoded = chance(0.5);
        const uriEscapePath = chance(0.85);
        const service = uriEscapePath ? pick(['execute-api', 'myapp', 's3']) : 's3';
        const region = pick(['us-east-1', 'eu-west-3', 'local']);
        const hostname = pick(['localhost', 'api.example.com', 'svc.internal']);
        const port = chance(0.3) ? 8443 : undefined;
        const host = port ? `${hostname}:${port}` : hostname;
        const path = randomPath(encoded);
        const query = randomQuery();
        const headers = randomHeaders(host);
        const method = pick(['GET', 'PUT', 'POST', 'DELETE']);
        let body;
        if (method !== 'GET' && chance(0.6)) body = str([...'{}":,ab01 é'], 0, 24);
        let unsigned = false;
        if (body !== undefined && chance(0.2)) {
          headers['X-Amz-Content-Sha256'] = 'UNSIGNED-PAYLOAD';
          unsigned = true;
        }
        const keyId = 'AKID' + str([...'ABCDEFGHIJKLMNOP0123456789'], 8, 12);
        const secret = str([...'abcdefXYZ0123456789+/'], 20, 40);
        const credentials = { accessKeyId: keyId, secretAccessKey: secret };
        if (chance(0.2)) credentials.sessionToken = 'tok' + str([...'abc019'], 4, 10);
        const signer = new SignatureV4({ credentials, region, service, sha256: Sha256, uriEscapePath });
        const request = {
          method,
          protocol: 'https:',
          hostname,
          port,
          path,
          query: JSON.parse(JSON.stringify(query)),
          headers: { ...headers },
          body,
        };
        const signingDate = new Date(now * 1000);
        let target;
        let sent;
        if (op === 'sign') {
          const out = await signer.sign(request, { signingDate });
          sent = out.headers;
          target = wireEncode(path);
          const qs = queryString(query);
          if (qs) target += '?' + qs;
        } else {
          const expiresIn = pick([60, 3600, 604800]);
          const out = await signer.presign(request, { signingDate, expiresIn });
          sent = out.headers;
          target = wireEncode(path) + '?' + queryString(out.query);
        }
        const hs = Object.entries(sent).filter(([k]) => k.toLowerCase() !== 'host');
        hs.unshift(['Host', host]);
        if (body !== undefined) hs.push(['Content-Length', String(Buffer.byteLength(body))]);
        process.stdout.write(JSON.stringify({
          name: `${pkg}-${op}-${i}`,
          pkg,
          op,
          method,
          target,
          headers: hs,
          body: body === undefined ? '' : body,
          key_id: keyId,
          secret,
          region,
          service,
          uri_escape_path: uriEscapePath,
          unsigned_payload: unsigned,
          now,
        }) + '\n');
      }
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
