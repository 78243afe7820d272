"""pymongo against a replica set run with --keyFile and --tlsMode requireTLS.

argv: the seed list "h1:p1,h2:p2,...", the set name, the CA file, the root user and password.
Creates an application user and a monitoring user, checks their roles (Unauthorized, 13, with
mongod's message), a wrong password (AuthenticationFailed, 18), and that w:majority writes of
the application user are acknowledged. Prints OK on success.
"""
import sys

import pymongo
from pymongo.errors import OperationFailure

seeds, rs, ca, root_user, root_pwd = sys.argv[1:6]
base = "mongodb://%s/?replicaSet=%s&tls=true&tlsCAFile=%s&serverSelectionTimeoutMS=15000" % (seeds, rs, ca)


def connect(user, pwd, **kw):
    return pymongo.MongoClient(base, username=user, password=pwd, authSource="admin", **kw)


def expect_code(code, fn, msg=""):
    try:
        fn()
    except OperationFailure as e:
        assert e.code == code, (e.code, e.details)
        assert msg in str(e.details.get("errmsg", "")), e.details
        return
    raise AssertionError("expected error %d" % code)


root = connect(root_user, root_pwd)
root.admin.command("createUser", "pyapp", pwd="pyapp-pw", roles=[{"role": "readWrite", "db": "pyapp"}],
                   writeConcern={"w": "majority"})
root.admin.command("createUser", "pymon", pwd="pymon-pw", roles=["clusterMonitor"], writeConcern={"w": "majority"})

app = connect("pyapp", "pyapp-pw", w="majority")
app.pyapp.items.insert_many([{"_id": i} for i in range(10)])
assert app.pyapp.items.count_documents({}) == 10
expect_code(13, lambda: app.admin.command("replSetGetStatus"), "not authorized on admin to execute command { replSetGetStatus: 1")

mon = connect("pymon", "pymon-pw")
status = mon.admin.command("replSetGetStatus")
assert status["set"] == rs and len(status["members"]) >= 3, status
expect_code(13, lambda: mon.pyapp.items.insert_one({"_id": 99}), "not authorized on pyapp to execute command { insert: \"items\"")

bad = connect("pyapp", "not-the-password")
expect_code(18, lambda: bad.pyapp.items.find_one(), "Authentication failed.")

for c in (root, app, mon, bad):
    c.close()
print("OK")
