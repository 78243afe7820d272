package mongoemu

import (
	"crypto/rand"
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/xdg-go/scram"

	"go.yaml.in/yaml/v3"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// KeyFileError is a --keyFile mongod cannot use. mongod logs "Read security file failed" (id
// 20254) or the size error (20255), then "Error creating service context" (20575) with
// "Location5579201: Unable to acquire security key[s]" and exits with EXIT_FAILURE (1)
// (db/mongod_main.cpp, db/auth/security_key.cpp).
type KeyFileError struct{ Err *mongoerr.Error }

func (e *KeyFileError) Error() string { return "Unable to acquire security key[s]: " + e.Err.Msg }

// internalUser is mongod's internalSecurity user, __system@local.
const (
	internalUserName = "__system"
	internalUserDB   = "local"
)

// readKeyFile applies readSecurityFile (db/auth/security_file.cpp): the file must exist and be
// closed to group and others ("permissions on X are too open"); it is YAML holding one key or a
// sequence of keys (key rollover), whitespace is stripped from each and only base64 characters
// may remain; it must hold a key. setUpSecurityKey (security_key.cpp) then accepts at most two
// keys of 6 to 1024 characters each.
func readKeyFile(path string) ([]string, *mongoerr.Error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, mongoerr.New(mongoerr.InvalidPath, "Error reading file %s: %s", path, strerror(err))
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, mongoerr.New(mongoerr.InvalidPath, "permissions on %s are too open", path)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, mongoerr.New(mongoerr.InvalidPath, "error opening file: %s: bad file", path)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, mongoerr.New(mongoerr.UnsupportedFormat, "error reading file: %s: %v", path, err)
	}
	var scalars []string
	var visit func(n *yaml.Node) *mongoerr.Error
	visit = func(n *yaml.Node) *mongoerr.Error {
		switch n.Kind {
		case yaml.DocumentNode, yaml.SequenceNode:
			for _, c := range n.Content {
				if err := visit(c); err != nil {
					return err
				}
			}
		case yaml.ScalarNode:
			scalars = append(scalars, n.Value)
		default:
			return mongoerr.New(mongoerr.UnsupportedFormat, "Only strings and sequences are supported for YAML key files")
		}
		return nil
	}
	if err := visit(&doc); err != nil {
		return nil, err
	}
	var keys []string
	for _, sc := range scalars {
		var b strings.Builder
		for _, ch := range sc {
			switch {
			case ch >= '\t' && ch <= '\r' || ch == ' ':
				continue
			case ch >= 'A' && ch <= 'Z', ch >= 'a' && ch <= 'z', ch >= '0' && ch <= '9', ch == '+', ch == '/', ch == '=':
				b.WriteRune(ch)
			default:
				return nil, mongoerr.New(mongoerr.UnsupportedFormat, "invalid char in key file %s", path)
			}
		}
		keys = append(keys, b.String())
	}
	if len(keys) == 0 {
		return nil, mongoerr.New(50981, "Security key file %s does not contain any valid keys", path)
	}
	if len(keys) > 2 {
		return nil, mongoerr.New(mongoerr.BadValue, "Only two keys are supported in the security key file, %d are specified in %s", len(keys), path)
	}
	for _, key := range keys {
		if len(key) < 6 || len(key) > 1024 {
			return nil, mongoerr.New(mongoerr.BadValue, "security key in %s has length %d, must be between 6 and 1024 chars", path, len(key))
		}
	}
	return keys, nil
}

func strerror(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		if errno, ok := pe.Err.(syscall.Errno); ok {
			s := errno.Error()
			return strings.ToUpper(s[:1]) + s[1:]
		}
	}
	return err.Error()
}

// internalCredentials are the __system user's keys derived from the key file, as
// CredentialsGenerator does in 7.0: SCRAM-SHA-1 from createPasswordDigest("__system", key) and
// SCRAM-SHA-256 from the SASLprepped key. One random salt per mechanism serves both keys of a
// rollover file, so a conversation can be checked against either (alternateCredentials).
type internalCredentials struct {
	keys []string
	sha1 []scram.StoredCredentials // one per key, same salt
	sha2 []scram.StoredCredentials
	// clients authenticate this node to its peers, one per key. A client caches the keys it
	// derives per salt, as mongod's SCRAM client caches its secrets, so only the first
	// connection to a peer pays the 15000 PBKDF2 iterations.
	clients []*scram.Client
}

func newInternalCredentials(keys []string) (*internalCredentials, error) {
	ic := &internalCredentials{keys: keys}
	for _, key := range keys {
		c, err := scram.SHA256.NewClient(internalUserName, key, "")
		if err != nil {
			return nil, fmt.Errorf("Could not prep security key file for SCRAM-SHA-256: %w", err)
		}
		ic.clients = append(ic.clients, c)
	}
	for _, m := range []string{mechSCRAMSHA1, mechSCRAMSHA256} {
		h, _ := scramHash(m)
		salt := make([]byte, h().Size()-4)
		if _, err := rand.Read(salt); err != nil {
			return nil, fmt.Errorf("salt: %w", err)
		}
		iters := scramSHA1Iterations
		if m == mechSCRAMSHA256 {
			iters = scramSHA256Iterations
		}
		for _, key := range keys {
			secret, err := scramSecret(m, internalUserName, key)
			if err != nil {
				return nil, fmt.Errorf("Could not prep security key file for SCRAM-SHA-256: %w", err)
			}
			sc := storedCredential(h, secret, salt, iters)
			if m == mechSCRAMSHA1 {
				ic.sha1 = append(ic.sha1, sc)
			} else {
				ic.sha2 = append(ic.sha2, sc)
			}
		}
	}
	return ic, nil
}

// credentials are the stored keys of key i for mech (ok false past the last key).
func (ic *internalCredentials) credentials(mech string, i int) (scram.StoredCredentials, bool) {
	set := ic.sha2
	if mech == mechSCRAMSHA1 {
		set = ic.sha1
	}
	if i >= len(set) {
		return scram.StoredCredentials{}, false
	}
	return set[i], true
}
