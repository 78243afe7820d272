// One-shot initialisation of the compose deployment's replica set, run by the `rs-init` service
// (docker-compose.yml) as `mongosh --nodb --quiet /scripts/rs-init.js` inside node-a's network
// namespace, so that 127.0.0.1 is node-a's localhost: the first user can only be created through
// MongoDB's localhost exception. Idempotent: run it again and it changes nothing.
//
//   1. rs.initiate the set rs0 (node-a, node-b, node-c) unless node-a already has a set config;
//   2. wait for a writable primary;
//   3. create the user "admin" (root) through the localhost exception, or log in as it when it
//      exists;
//   4. create or update the user "rsguard" the sidecars log in as: clusterAdmin
//      (replSetGetStatus/GetConfig, replSetStepUp, replSetFreeze, replSetReconfig, shutdown for a
//      fence), readAnyDatabase (listCollections on every database: the rollback archive names
//      the namespaces of rollback files by collection UUID; a custom role with only
//      listCollections on {db: "", collection: ""} is the tighter choice) and readWrite on
//      "rsguard", the write probes' database (probe.write_probe_namespace).
//
// Environment: RSGUARD_SECRETS (the secrets directory, default /secrets), RSGUARD_LOCAL (the URI
// of node-a's mongod over loopback) and RSGUARD_MEMBERS (host:port,...; the first is node-a).
const fs = require('fs');
const secrets = process.env.RSGUARD_SECRETS || '/secrets';
const read = (name) => fs.readFileSync(secrets + '/' + name, 'utf8').trim();
const adminPw = read('admin.pass');
const rsguardPw = read('rsguard.pass');
const members = (process.env.RSGUARD_MEMBERS || 'node-a:27017,node-b:27017,node-c:27017').split(',');
const localURI = process.env.RSGUARD_LOCAL || 'mongodb://127.0.0.1:27017/?directConnection=true';
const deadline = Date.now() + 180 * 1000;

function waitFor(what, fn) {
  for (;;) {
    let v;
    try { v = fn(); } catch (e) { v = undefined; }
    if (v) return v;
    if (Date.now() > deadline) throw new Error('rs-init: timed out waiting for ' + what);
    sleep(1000);
  }
}

const local = waitFor('node-a mongod at ' + localURI, () => new Mongo(localURI));
const hello = () => local.getDB('admin').runCommand({ hello: 1 });

if (!hello().setName) {
  const cfg = { _id: 'rs0', members: members.map((h, i) => ({ _id: i, host: h })) };
  // The others' mongods may still be starting: replSetInitiate fails its quorum check until
  // every member answers.
  waitFor('replSetInitiate to succeed', () => {
    const r = local.getDB('admin').runCommand({ replSetInitiate: cfg });
    if (r.ok) { print('rs-init: replica set rs0 initiated'); return true; }
    if (r.codeName === 'AlreadyInitialized') return true;
    print('rs-init: replSetInitiate: ' + r.errmsg + ' (retrying)');
    return false;
  });
} else {
  print('rs-init: replica set ' + hello().setName + ' already initiated');
}

const primary = waitFor('a writable primary', () => hello().primary);
print('rs-init: primary is ' + primary);

const admin = local.getDB('admin');
let loggedIn = false;
try { loggedIn = admin.auth('admin', adminPw).ok === 1; } catch (e) { loggedIn = false; }
let conn;
if (loggedIn) {
  conn = new Mongo('mongodb://admin:' + adminPw + '@' + primary + '/admin?directConnection=true');
  print('rs-init: user admin exists');
} else {
  // Only the localhost exception lets us in: it needs node-a to be the primary.
  waitFor('node-a to be the primary (localhost exception)', () => hello().isWritablePrimary);
  admin.createUser({ user: 'admin', pwd: adminPw, roles: ['root'] });
  print('rs-init: user admin created');
  admin.auth('admin', adminPw);
  conn = local;
}

const roles = ['clusterAdmin', 'readAnyDatabase', { role: 'readWrite', db: 'rsguard' }];
const adminDB = conn.getDB('admin');
if (adminDB.getUser('rsguard')) {
  adminDB.updateUser('rsguard', { pwd: rsguardPw, roles: roles });
  print('rs-init: user rsguard updated');
} else {
  adminDB.createUser({ user: 'rsguard', pwd: rsguardPw, roles: roles });
  print('rs-init: user rsguard created');
}
print('rs-init: done');
