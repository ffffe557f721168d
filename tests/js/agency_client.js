#!/usr/bin/env node
// An agency system written in Node.js (@grpc/grpc-js), as a government unit's own
// software would be: it connects to the cases agency port with its client certificate
// (mutual TLS: the certificate names the unit), watches its queue until its case
// arrives, accepts it with the version it saw, starts work and resolves it, and then
// tries another unit's case, which must be NOT_FOUND for reading and for acting.
//
// Usage: node agency_client.js ADDRESS CA_CERT CLIENT_CERT CLIENT_KEY CASE_ID OTHER_CASE_ID
//   ADDRESS        host:port of the agency port (cases.agency_listen)
//   CA_CERT        PEM of the CA that signed the server's certificate
//   CLIENT_CERT    PEM of this unit's certificate, CLIENT_KEY its key
//   CASE_ID        the case this unit should handle
//   OTHER_CASE_ID  a case of another unit
// Environment: CIVIC_GOOGLEAPIS_DIR, the googleapis protos (google/api/annotations.proto)
// when not at Debian's path.
//
// Prints one JSON summary on stdout; exits 0 only when every step held, 1 when one did
// not, 2 on bad usage, 3 when 20 s passed first.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const HARD_TIMEOUT_MS = 20000;
const CALL_TIMEOUT_MS = 10000;
const DEFAULT_GOOGLEAPIS_DIR =
  '/usr/share/gocode/src/github.com/grpc-ecosystem/grpc-gateway/third_party/googleapis';

const summary = { ok: false, unit: null, unit_case: null, other_case: null, steps: [] };

function finish(code, error) {
  if (error) summary.error = String(error && error.message ? error.message : error);
  summary.ok = code === 0;
  process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  process.exit(code);
}

function step(name, detail) {
  summary.steps.push(Object.assign({ step: name }, detail));
}

function deadline() {
  return new Date(Date.now() + CALL_TIMEOUT_MS);
}

function loadCasesService() {
  const protoRoot = path.resolve(__dirname, '..', '..', 'proto');
  const googleapis = process.env.CIVIC_GOOGLEAPIS_DIR || DEFAULT_GOOGLEAPIS_DIR;
  const definition = protoLoader.loadSync('civic/cases/v1/cases.proto', {
    includeDirs: [protoRoot, googleapis],
    keepCase: true, // field names as in the proto: case_id, expected_version
    longs: String, // uint64 versions and sequences as decimal strings
    enums: String, // CASE_STATUS_ACCEPTED rather than 2
    defaults: true,
    oneofs: true,
  });
  return grpc.loadPackageDefinition(definition).civic.cases.v1.CasesService;
}

// A unary call as a promise resolving to {error, response}: refusals are results here.
function call(client, method, request) {
  return new Promise((resolve) => {
    client[method](request, { deadline: deadline() }, (error, response) =>
      resolve({ error, response }));
  });
}

// Reads the unit's queue until `caseId` appears (backlog or live); returns that item and
// every case id the stream delivered meanwhile.
function waitInQueue(client, caseId) {
  return new Promise((resolve, reject) => {
    const seen = [];
    let done = false;
    const stream = client.WatchQueue({ after_sequence: '0' });
    stream.on('data', (update) => {
      if (done || !update.item) return;
      seen.push(update.item.case_id);
      if (update.item.case_id === caseId) {
        done = true;
        stream.cancel();
        resolve({ item: update.item, backlog: update.backlog, seen });
      }
    });
    stream.on('error', (error) => {
      if (done) return; // our own cancel
      done = true;
      reject(new Error(`WatchQueue failed: ${grpc.status[error.code]}: ${error.details}`));
    });
    stream.on('end', () => {
      if (!done) reject(new Error('WatchQueue ended before the case arrived'));
    });
  });
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length !== 6) {
    process.stderr.write(
      'usage: node agency_client.js ADDRESS CA_CERT CLIENT_CERT CLIENT_KEY CASE_ID OTHER_CASE_ID\n');
    process.exit(2);
  }
  const [address, caFile, certFile, keyFile, caseId, otherCaseId] = args;
  summary.unit_case = caseId;
  summary.other_case = otherCaseId;

  const cert = fs.readFileSync(certFile);
  // Our unit, as the server will read it: the certificate's CN.
  const subject = new crypto.X509Certificate(cert).subject.split('\n');
  const unitId = (subject.find((line) => line.startsWith('CN=')) || 'CN=').slice(3);
  summary.unit = unitId;

  const CasesService = loadCasesService();
  const credentials = grpc.credentials.createSsl(
    fs.readFileSync(caFile), fs.readFileSync(keyFile), cert);
  const client = new CasesService(address, credentials);

  // 1. The case arrives in the unit's queue; another unit's case never does.
  const queued = await waitInQueue(client, caseId);
  let current = queued.item;
  step('watch', {
    backlog: queued.backlog, status: current.status, version: current.version,
    seen: queued.seen.length,
  });
  if (queued.seen.includes(otherCaseId)) {
    return finish(1, "another unit's case appeared in this unit's queue");
  }
  if (!current.unit || current.unit.id !== unitId) {
    return finish(1, `the queued case is assigned to ${current.unit && current.unit.id}, not ${unitId}`);
  }

  // 2. Accept, start and resolve, each with the version last seen, each answering with
  // the new status and a higher version.
  const moves = [
    ['Accept', 'CASE_STATUS_ACCEPTED', ''],
    ['StartWork', 'CASE_STATUS_IN_PROGRESS', ''],
    ['Resolve', 'CASE_STATUS_RESOLVED', 'Đã sửa xong ổ gà, cảm ơn bạn đã báo (hệ thống Node.js)'],
  ];
  for (const [method, want, comment] of moves) {
    const { error, response } = await call(client, method, {
      case_id: caseId, expected_version: current.version, comment,
    });
    if (error) {
      return finish(1, `${method} failed: ${grpc.status[error.code]}: ${error.details}`);
    }
    step(method, { status: response.status, version: response.version });
    if (response.status !== want) {
      return finish(1, `${method} answered ${response.status}, expected ${want}`);
    }
    if (BigInt(response.version) <= BigInt(current.version)) {
      return finish(1, `${method} did not advance the version (${response.version})`);
    }
    current = response;
  }

  // 3. Another unit's case: NOT_FOUND for reading and for acting (ids cannot be probed).
  for (const [method, request] of [
    ['GetCase', { case_id: otherCaseId }],
    ['Accept', { case_id: otherCaseId, expected_version: '1' }],
  ]) {
    const { error } = await call(client, method, request);
    const code = error ? grpc.status[error.code] : 'OK';
    step(`${method} other unit's case`, { code });
    if (!error || error.code !== grpc.status.NOT_FOUND) {
      return finish(1, `${method} of another unit's case answered ${code}, expected NOT_FOUND`);
    }
  }

  client.close();
  return finish(0);
}

setTimeout(() => finish(3, `not done within ${HARD_TIMEOUT_MS / 1000} s`), HARD_TIMEOUT_MS);
main().catch((error) => finish(1, error));
