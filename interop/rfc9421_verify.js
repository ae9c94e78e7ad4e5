'use strict';
// Verifies requests with http-message-signatures (RFC 9421). Reads one JSON
// request per line on stdin ({id, method, url, headers: [[name, value]...],
// alg, key_id, secret | public_key_pem, now}) and prints one JSON result
// per line: {id, ok, error}.
const crypto = require('crypto');
const readline = require('readline');
const { httpbis, createVerifier } = require('http-message-signatures');

const realNow = Date.now;
const rl = readline.createInterface({ input: process.stdin });
const queue = [];
rl.on('line', (line) => { if (line.trim()) queue.push(JSON.parse(line)); });
rl.on('close', async () => {
  for (const c of queue) {
    let ok = false, error = '';
    try {
      Date.now = () => c.now * 1000; // the verifier's clock
      const headers = {};
      for (const [name, value] of c.headers) {
        const k = name.toLowerCase();
        headers[k] = k in headers ? [].concat(headers[k], value) : value;
      }
      const key = c.secret !== undefined ? Buffer.from(c.secret, 'base64') : crypto.createPublicKey(c.public_key_pem);
      const result = await httpbis.verifyMessage({
        keyLookup: async (params) => (params.keyid === c.key_id ? { id: c.key_id, algs: [c.alg], verify: createVerifier(key, c.alg) } : null),
        maxAge: 300,
        tolerance: 5,
      }, { method: c.method, url: c.url, headers });
      ok = result === true;
      if (!ok) error = `result ${result}`;
    } catch (e) {
      error = String(e && e.message || e);
    } finally {
      Date.now = realNow;
    }
    process.stdout.write(JSON.stringify({ id: c.id, ok, error }) + '\n');
  }
});
