package mongoemu

import (
	"crypto/rand"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/storage"
)

// usersNS is where mongod keeps users (db/auth/authorization_manager.h usersCollectionNamespace):
// an ordinary replicated collection, so users reach every member through the oplog and survive
// restarts.
const usersNS = "admin.system.users"

// userName is a user and its authentication database (auth/user_name.h).
type userName struct{ user, db string }

// id is the _id mongod gives the user document: "<db>.<user>".
func (u userName) id() string { return u.db + "." + u.user }

// String is mongod's UserName formatting "user@db".
func (u userName) String() string { return u.user + "@" + u.db }

func (u userName) doc() bson.D { return bson.D{{Key: "user", Value: u.user}, {Key: "db", Value: u.db}} }

// roleName is a role and the database it is defined on.
type roleName struct{ role, db string }

func (r roleName) String() string { return r.role + "@" + r.db }

// lookupUser reads a user document; the internal __system user is not stored.
func (n *Node) lookupUser(u userName) (bson.Raw, bool) {
	var doc bson.Raw
	var found bool
	_ = n.store.View(func(tx *storage.Tx) error {
		d, ok, err := tx.Get(usersNS, bson.RawValue{Type: bson.TypeString, Value: bsonString(u.id())})
		if err == nil && ok {
			doc, found = append(bson.Raw(nil), d...), true
		}
		return nil
	})
	return doc, found
}

// hasUsers is AuthorizationManager::hasAnyPrivilegeDocuments: any user at all ends the
// localhost exception.
func (n *Node) hasUsers() bool {
	var count int64
	_ = n.store.View(func(tx *storage.Tx) error {
		c, err := tx.Count(usersNS)
		if err == nil {
			count = c
		}
		return nil
	})
	return count > 0
}

// userRoles lists the roles of a user document.
func userRoles(doc bson.Raw) []roleName {
	arr, ok := doc.Lookup("roles").ArrayOK()
	if !ok {
		return nil
	}
	vals, _ := arr.Values()
	out := make([]roleName, 0, len(vals))
	for _, v := range vals {
		d, ok := v.DocumentOK()
		if !ok {
			continue
		}
		role, _ := d.Lookup("role").StringValueOK()
		db, _ := d.Lookup("db").StringValueOK()
		out = append(out, roleName{role: role, db: db})
	}
	return out
}

// userMechanisms lists the credential mechanisms a user document holds, in mongod's order.
func userMechanisms(doc bson.Raw) []string {
	var out []string
	for _, m := range []string{mechSCRAMSHA1, mechSCRAMSHA256} {
		if _, ok := doc.Lookup("credentials", m).DocumentOK(); ok {
			out = append(out, m)
		}
	}
	if ext, ok := doc.Lookup("credentials", "external").BooleanOK(); ok && ext {
		out = append(out, "external")
	}
	return out
}

// bsonString encodes a BSON string value (int32 length, bytes, NUL).
func bsonString(s string) []byte {
	n := len(s) + 1
	b := []byte{byte(n), byte(n >> 8), byte(n >> 16), byte(n >> 24)}
	b = append(b, s...)
	return append(b, 0)
}

// newUUIDBytes is a random (version 4) UUID, the userId mongod gives each new user.
func newUUIDBytes() []byte {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return b
}
