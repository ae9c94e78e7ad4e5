'use strict';
// Signs random requests with http-message-signatures (RFC 9421), its clock
// frozen, and prints one JSON case per line for rfc9421_test.go.
// Usage: node rfc9421_sign.js <seed> <count> <now-unix-seconds>
const crypto = require('crypto');
const { httpbis, createSigner } = require('http-message-signatures');

const seed = Number(process.argv[2] || 1);
const count = Number(process.argv[3] || 100);
const now = Number(process.argv[4] || 1700000000);

let s = seed >>> 0;
function rnd() { // mulberry32
  s = (s + 0x6D2B79F5) >>> 0;
  let t = s;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (a) => a[Math.floor(rnd() * a.length)];
const str = (alphabet, min, max) => {
  let n = min + Math.floor(rnd() * (max - min + 1)), o = '';
  while (n-- > 0) o += pick(alphabet);
  return o;
};

const keys = {
  'hmac-sha256': () => { const k = crypto.randomBytes(32); return { sign: k, pub: { secret: k.toString('base64') } }; },
  'ed25519': () => crypto.generateKeyPairSync('ed25519'),
  'ecdsa-p256-sha256': () => crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  'ecdsa-p384-sha384': () => crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' }),
  'rsa-pss-sha512': () => crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }),
  'rsa-v1_5-sha256': () => crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }),
};
const made = {};
function keyFor(alg) {
  if (!made[alg]) {
    const k = keys[alg]();
    if (alg === 'hmac-sha256') made[alg] = k;
    else made[alg] = { sign: k.privateKey, pub: { public_key_pem: k.publicKey.export({ type: 'spki', format: 'pem' }) } };
  }
  return made[alg];
}

async function main() {
  const algs = Object.keys(keys);
  for (let i = 0; i < count; i++) {
    const alg = algs[i % algs.length];
    const method = pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'get', 'post']);
    const scheme = pick(['http', 'https']);
    const host = pick(['api.example.com', 'Example.COM', 'localhost:8080', '127.0.0.1:443', 'api.example.org:80']);
    const path = '/' + str([...'abcXYZ019-._~!$&\'()*+,;=:@', '%20', '%7E', ' ', '"', '{'], 0, 12) + pick(['', '/', '/x y', '/é', '/a%2Fb']);
    const qnames = ['a', 'b', 'q', 'Pet', 'sp ace'];
    const qs = [];
    const nq = Math.floor(rnd() * 4);
    for (let j = 0; j < nq; j++) {
      qs.push(encodeURIComponent(pick(qnames)) + '=' + pick([str([...'abc019-._~!*\'() +', '%', '%25', '%41'], 0, 8), 'x%20y', 'é', '']));
    }
    const url = new URL(`${scheme}://${host}${path}${qs.length ? '?' + qs.join('&') : ''}`);
    const body = ['POST', 'PUT', 'PATCH', 'post'].includes(method) && rnd() < 0.8 ? str('{}":, abc019é', 0, 40) : '';
    const headers = {
      'Host': url.host,
      'Content-Type': 'application/json',
      'X-Custom': rnd() < 0.3 ? ['v1 ' + str('abc=;', 0, 4), 'second value'] : 'single ' + str('abc=;', 0, 4),
      'X-Dict': 'a=1, b="two";p=?0, c=(x y)',
      'Date': new Date(now * 1000).toUTCString(),
    };
    if (body) {
      headers['Content-Length'] = String(Buffer.byteLength(body));
      const dalg = pick(['sha-256', 'sha-512']);
      headers['Content-Digest'] = `${dalg}=:${crypto.createHash(dalg.replace('-', '')).update(body).digest('base64')}:`;
    }
    const pool = ['"@method"', '"@authority"', '"@path"', '"@query"', '"@target-uri"', '"@scheme"', '"@request-target"',
      '"content-type"', '"x-custom"', '"date"', '"x-dict";sf', '"x-dict";key="b"', '"x-custom";bs'];
    for (const q of qs) pool.push(`"@query-param";name="${q.split('=')[0]}"`);
    if (body) pool.push('"content-digest"', '"content-length"');
    const fields = ['"@method"', '"@authority"', '"@path"'];
    if (qs.length) fields.push('"@query"');
    if (body) fields.push('"content-digest"');
    for (const f of pool) if (!fields.includes(f) && rnd() < 0.3) fields.push(f);
    fields.sort(() => rnd() - 0.5);
    const params = ['keyid', 'alg', 'created', 'expires'];
    if (rnd() < 0.5) params.push('nonce');
    if (rnd() < 0.3) params.push('tag');
    const k = keyFor(alg);
    const keyid = 'key-' + alg;
    const label = pick(['sig1', 'sig', 'x']);
    const signed = await httpbis.signMessage({
      key: createSigner(k.sign, alg, keyid),
      name: label,
      fields: [...new Set(fields.map((f) => f.replace(/^"([^"]*)"/, '$1')))],
      params,
      paramValues: { created: new Date(now * 1000), expires: new Date((now + 300) * 1000), nonce: 'n-' + i, tag: 'app' },
    }, { method, url, headers });
    const out = [];
    for (const [name, v] of Object.entries(signed.headers)) {
      for (const one of [].concat(v)) out.push([name, one]);
    }
    console.log(JSON.stringify({
      name: `${i}/${alg}`, alg, key_id: keyid, ...k.pub, method: method.toUpperCase(),
      target: url.pathname + url.search, host: url.host, https: scheme === 'https',
      headers: out, body, fields, now,
    }));
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
