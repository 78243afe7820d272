"""pymongo smoke test against a mongoemu process: argv[1] is host:port.

Exercises what a Python operator script would: handshake and monitoring, server info, CRUD,
cursors with small batches, admin commands and error codes. Prints OK on success.
"""
import sys

import pymongo
from pymongo.errors import OperationFailure

client = pymongo.MongoClient("mongodb://%s/?directConnection=true" % sys.argv[1],
                             serverSelectionTimeoutMS=5000, appname="pymongo-smoke")
admin = client.admin
assert admin.command("ping")["ok"] == 1.0
info = client.server_info()
assert info["version"].startswith("7.0."), info
assert info["versionArray"][:2] == [7, 0], info
hello = admin.command("isMaster")
assert hello["ismaster"] is True and hello["maxWireVersion"] == 21, hello

coll = client.smoke.items
coll.drop()
coll.insert_many([{"_id": i, "n": i, "even": i % 2 == 0} for i in range(25)])
assert coll.count_documents({}) == 25
assert coll.count_documents({"even": True}) == 13
assert [d["_id"] for d in coll.find({"n": {"$gte": 20}}).sort("n", -1)] == [24, 23, 22, 21, 20]
assert len(list(coll.find({}, batch_size=4))) == 25  # getMore round trips
coll.update_one({"_id": 3}, {"$set": {"tag": "x"}})
assert coll.find_one({"_id": 3})["tag"] == "x"
coll.delete_many({"even": False})
assert coll.count_documents({}) == 13
assert "items" in client.smoke.list_collection_names()

status = admin.command("serverStatus")
assert status["process"] == "mongod" and status["opcounters"]["insert"] >= 25, status["opcounters"]
assert admin.command("getParameter", 1, featureCompatibilityVersion=1)["featureCompatibilityVersion"]["version"] == "7.0"
try:
    admin.command("noSuchCommand")
    raise AssertionError("unknown command accepted")
except OperationFailure as e:
    assert e.code == 59, e.details
client.close()
print("OK")
