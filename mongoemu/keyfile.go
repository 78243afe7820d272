package mongoemu

import (
	"crypto/rand"
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/xdg-go/scram"

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
// closed to group and others ("permissions on X are too open"); whitespace is stripped and only
// base64 characters remain; it must hold a key. setUpSecurityKey (security_key.cpp) then requires
// 6 to 1024 characters. A one-line YAML scalar is the common case; sequences of keys (key
// rollover) are not supported.
func readKeyFile(path string) (string, *mongoerr.Error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", mongoerr.New(mongoerr.InvalidPath, "Error reading file %s: %s", path, strerror(err))
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", mongoerr.New(mongoerr.InvalidPath, "permissions on %s are too open", path)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", mongoerr.New(mongoerr.InvalidPath, "error opening file: %s: bad file", path)
	}
	var b strings.Builder
	for _, ch := range string(raw) {
		switch {
		case ch >= '\t' && ch <= '\r' || ch == ' ':
			continue
		case ch >= 'A' && ch <= 'Z', ch >= 'a' && ch <= 'z', ch >= '0' && ch <= '9', ch == '+', ch == '/', ch == '=':
			b.WriteRune(ch)
		default:
			return "", mongoerr.New(mongoerr.UnsupportedFormat, "invalid char in key file %s", path)
		}
	}
	key := b.String()
	if key == "" {
		return "", mongoerr.New(50981, "Security key file %s does not contain any valid keys", path)
	}
	if len(key) < 6 || len(key) > 1024 {
		return "", mongoerr.New(mongoerr.BadValue, "security key in %s has length %d, must be between 6 and 1024 chars", path, len(key))
	}
	return key, nil
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
// SCRAM-SHA-256 from the SASLprepped key, each with a random salt.
type internalCredentials struct {
	key    string
	sha1   scram.StoredCredentials
	sha256 scram.StoredCredentials
}

func newInternalCredentials(key string) (*internalCredentials, error) {
	ic := &internalCredentials{key: key}
	for _, m := range []string{mechSCRAMSHA1, mechSCRAMSHA256} {
		h, _ := scramHash(m)
		secret, err := scramSecret(m, internalUserName, key)
		if err != nil {
			return nil, fmt.Errorf("Could not prep security key file for SCRAM-SHA-256: %w", err)
		}
		salt := make([]byte, h().Size()-4)
		if _, err := rand.Read(salt); err != nil {
			return nil, fmt.Errorf("salt: %w", err)
		}
		iters := scramSHA1Iterations
		if m == mechSCRAMSHA256 {
			iters = scramSHA256Iterations
		}
		sc := storedCredential(h, secret, salt, iters)
		if m == mechSCRAMSHA1 {
			ic.sha1 = sc
		} else {
			ic.sha256 = sc
		}
	}
	return ic, nil
}
