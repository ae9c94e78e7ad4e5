#!/usr/bin/env node
// An Express app protected by the npm package api-signature (an Express
// draft-cavage verifier), for interop_test.go to send Signet-signed requests
// to.
//
// Usage: node api_signature_server.js '{"keyId":"secret",...}'
//        (or the same JSON in the API_SIGNATURE_KEYS environment variable)
//
// Listens on 127.0.0.1, port 0 (the kernel picks one), and prints
// "PORT=<n>" on stdout once listening. Every path except /healthz is
// protected: a request that api-signature accepts gets 200 and JSON saying
// what was verified; one it rejects gets the status api-signature's error
// carries (400 or 401) and {"error","message"}. Exits when stdin closes, so a
// test process that dies does not leave the server running.
'use strict';

const express = require('express');
const apiSignature = require('api-signature');

const keys = JSON.parse(process.argv[2] || process.env.API_SIGNATURE_KEYS || '{}');

// getSecret must call done synchronously: api-signature throws from inside
// the callback, and only a synchronous throw reaches the promise that the
// wrapper below catches.
function getSecret(keyId, done) {
  if (!Object.prototype.hasOwnProperty.call(keys, keyId)) {
    return done(new Error('Unknown api key'));
  }
  return done(null, keys[keyId], { keyId });
}

const verify = apiSignature({ getSecret });

const app = express();
app.disable('x-powered-by');

app.get('/healthz', (req, res) => res.json({ ok: true }));

// api-signature's middleware is an async function that throws its errors
// (each with a .status) instead of answering; Express 4 does not catch a
// rejected promise, so forward it to the error handler. Mounted without a
// path so that req.path, which api-signature signs as (request-target), is
// the whole path.
app.use((req, res, next) => {
  Promise.resolve()
    .then(() => verify(req, res, next))
    .catch(next);
});

// Echo what was verified: the key, the method and path as api-signature saw
// them, and the signed header names (re-read from the Authorization header
// the same way api-signature splits it).
app.all('*', (req, res) => {
  const auth = req.headers.authorization || '';
  const m = /(?:^|,)headers="([^"]*)"/.exec(auth.slice('signature'.length).trim());
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    res.json({
      verified: true,
      keyId: req.credentials && req.credentials.keyId,
      method: req.method,
      path: req.path,
      url: req.originalUrl,
      signedHeaders: m ? m[1].toLowerCase().split(' ') : ['date'],
      bodyBytes: Buffer.concat(chunks).length,
    });
  });
});

// eslint-disable-next-line no-unused-vars
app.use((err, req, res, next) => {
  const status = Number.isInteger(err.status) ? err.status : 500;
  res.status(status).json({ error: err.name || 'Error', message: err.message });
});

const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`PORT=${server.address().port}\n`);
});

process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
