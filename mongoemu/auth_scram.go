package mongoemu

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"

	"github.com/xdg-go/scram"
	"github.com/xdg-go/stringprep"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// SCRAM mechanisms mongod 7.0 supports for users in system.users (auth/sasl_mechanism_registry.cpp).
const (
	mechSCRAMSHA1   = "SCRAM-SHA-1"
	mechSCRAMSHA256 = "SCRAM-SHA-256"
	mechX509        = "MONGODB-X509"
)

// Default iteration counts: saslGlobalParams scramIterationCount 10000 and
// scramSHA256IterationCount 15000 (db/auth/sasl_options.idl).
const (
	scramSHA1Iterations   = 10000
	scramSHA256Iterations = 15000
)

// passwordDigest is mongod's createPasswordDigest (util/password_digest.cpp): the hex MD5 of
// "user:mongo:pwd". SCRAM-SHA-1 uses it as the password, without SASLprep, on both sides; the
// drivers do the same (auth spec "SCRAM-SHA-1").
func passwordDigest(user, pwd string) string {
	sum := md5.Sum([]byte(user + ":mongo:" + pwd))
	return hex.EncodeToString(sum[:])
}

// scramHash returns the hash generator of a SCRAM mechanism.
func scramHash(mech string) (scram.HashGeneratorFcn, bool) {
	switch mech {
	case mechSCRAMSHA1:
		return scram.SHA1, true
	case mechSCRAMSHA256:
		return scram.SHA256, true
	}
	return nil, false
}

// scramSecret is the password a mechanism's keys are derived from: the MD5 digest for SHA-1,
// the SASLprepped password for SHA-256 (crypto/mechanism_scram.h, user_management_commands.cpp
// buildCredentials).
func scramSecret(mech, user, pwd string) (string, error) {
	if mech == mechSCRAMSHA1 {
		return passwordDigest(user, pwd), nil
	}
	p, err := stringprep.SASLprep.Prepare(pwd)
	if err != nil {
		return "", fmt.Errorf("Error preflighting SCRAM-SHA-256 password: %w", err)
	}
	return p, nil
}

// makeCredential derives the stored form {iterationCount, salt, storedKey, serverKey} of one
// mechanism with a fresh random salt of hash length minus 4 bytes (scram::Presecrets
// generateSecureRandomSalt), the shape mongod keeps under credentials.<mech> in system.users.
func makeCredential(mech, user, pwd string, iters int) (bson.D, error) {
	h, ok := scramHash(mech)
	if !ok {
		return nil, fmt.Errorf("unsupported mechanism %s", mech)
	}
	secret, err := scramSecret(mech, user, pwd)
	if err != nil {
		return nil, err
	}
	salt := make([]byte, h().Size()-4)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("salt: %w", err)
	}
	sc := storedCredential(h, secret, salt, iters)
	enc := base64.StdEncoding.EncodeToString
	return bson.D{{Key: "iterationCount", Value: int32(iters)}, {Key: "salt", Value: enc(salt)},
		{Key: "storedKey", Value: enc(sc.StoredKey)}, {Key: "serverKey", Value: enc(sc.ServerKey)}}, nil
}

// storedCredential computes StoredKey and ServerKey (RFC 5802) through the library's client,
// which derives exactly what a server must store.
func storedCredential(h scram.HashGeneratorFcn, secret string, salt []byte, iters int) scram.StoredCredentials {
	c, _ := h.NewClientUnprepped("", secret, "")
	return c.GetStoredCredentials(scram.KeyFactors{Salt: string(salt), Iters: iters})
}

// parseCredential reads credentials.<mech> of a user document back into the library's form.
func parseCredential(doc bson.Raw, mech string) (scram.StoredCredentials, bool) {
	c, ok := doc.Lookup("credentials", mech).DocumentOK()
	if !ok {
		return scram.StoredCredentials{}, false
	}
	dec := func(k string) []byte {
		s, _ := c.Lookup(k).StringValueOK()
		b, _ := base64.StdEncoding.DecodeString(s)
		return b
	}
	iters, _ := numberAsInt64(c.Lookup("iterationCount"))
	return scram.StoredCredentials{KeyFactors: scram.KeyFactors{Salt: string(dec("salt")), Iters: int(iters)},
		StoredKey: dec("storedKey"), ServerKey: dec("serverKey")}, true
}
