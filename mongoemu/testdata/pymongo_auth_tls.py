"""pymongo against a mongoemu started with --auth and --tlsMode requireTLS.

argv: host:port, CA file, client certificate+key file, the client certificate's subject.
A DBA's first steps on such a mongod: the localhost exception creates the first user, then
SCRAM-SHA-256 and SCRAM-SHA-1 logins, a wrong password (AuthenticationFailed, 18), a user
without the role (Unauthorized, 13, mongod's message), user management, and MONGODB-X509.
Prints OK on success.
"""
import sys

import pymongo
from pymongo.errors import OperationFailure

host, ca, client_pem, subject = sys.argv[1:5]
base = "mongodb://%s/?directConnection=true&tls=true&tlsCAFile=%s&serverSelectionTimeoutMS=5000" % (host, ca)


def connect(**kw):
    return pymongo.MongoClient(base, **kw)


def expect_code(code, fn, msg=""):
    try:
        fn()
    except OperationFailure as e:
        assert e.code == code, (e.code, e.details)
        assert msg in str(e.details.get("errmsg", "")), e.details
        return
    raise AssertionError("expected error %d" % code)


anon = connect()
anon.admin.command("ping")
expect_code(13, lambda: anon.test.c.find_one(), "not authorized on test to execute command { find: \"c\"")
anon.admin.command("createUser", "root", pwd="s3cret", roles=["root"])
expect_code(13, lambda: anon.test.c.find_one(), "Command find requires authentication")

for mech in ("SCRAM-SHA-256", "SCRAM-SHA-1"):
    c = connect(username="root", password="s3cret", authSource="admin", authMechanism=mech)
    st = c.admin.command("connectionStatus")
    assert st["authInfo"]["authenticatedUsers"] == [{"user": "root", "db": "admin"}], st
    c.close()

bad = connect(username="root", password="wrong", authSource="admin")
expect_code(18, lambda: bad.admin.command("ping"), "Authentication failed.")

root = connect(username="root", password="s3cret", authSource="admin")
root.test.c.insert_one({"_id": 1})
root.admin.command("createUser", "reader", pwd="r", roles=[{"role": "read", "db": "test"}])
info = root.admin.command("usersInfo", "reader")["users"][0]
assert info["_id"] == "admin.reader" and info["mechanisms"] == ["SCRAM-SHA-1", "SCRAM-SHA-256"], info

reader = connect(username="reader", password="r", authSource="admin")
assert reader.test.c.count_documents({}) == 1
expect_code(13, lambda: reader.test.c.insert_one({"_id": 2}), "not authorized on test to execute command { insert: \"c\"")
root.admin.command("grantRolesToUser", "reader", roles=[{"role": "readWrite", "db": "test"}])
reader.test.c.insert_one({"_id": 2})
root.admin.command("dropUser", "reader")
expect_code(13, lambda: reader.test.c.find_one(), "requires authentication")

root["$external"].command("createUser", subject, roles=[{"role": "read", "db": "test"}])
x = connect(tlsCertificateKeyFile=client_pem, authMechanism="MONGODB-X509")
assert x.test.c.count_documents({}) == 2
st = x.admin.command("connectionStatus")
assert st["authInfo"]["authenticatedUsers"] == [{"user": subject, "db": "$external"}], st
for c in (anon, bad, root, reader, x):
    c.close()
print("OK")
