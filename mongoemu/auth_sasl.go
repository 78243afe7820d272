package mongoemu

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/xdg-go/scram"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// saslConv is one SCRAM conversation in progress on a connection (auth/authentication_session.h).
type saslConv struct {
	mech string
	db   string
	srv  *scram.ServerConversation
	// alt checks the same exchange against the second key of a rollover key file (__system).
	alt       *scram.ServerConversation
	skipEmpty bool
	user      userName
	verified  bool // the client proof checked out; an empty final step may follow
	// speculative: started from hello's speculativeAuthenticate (logged as such).
	speculative bool
}

// errAuthFailed is what every authentication failure answers: mongod hides the reason from the
// client and logs it (auth/sasl_commands.cpp, "Authentication failed." with code 18).
func errAuthFailed() error {
	return mongoerr.New(mongoerr.AuthenticationFailed, "Authentication failed.")
}

func (n *Node) registerAuth(t commandTable) {
	t["saslStart"] = &command{fn: n.cmdSaslStart}
	t["saslContinue"] = &command{fn: n.cmdSaslContinue}
	t["authenticate"] = &command{fn: n.cmdAuthenticate}
	t["logout"] = &command{fn: n.cmdLogout}
	t["connectionStatus"] = &command{fn: n.cmdConnectionStatus}
	n.registerUserCommands(t)
}

// saslPayload reads payload as BinData (drivers) or a string (the legacy shell form).
func saslPayload(d bson.Raw) (string, error) {
	v, err := d.LookupErr("payload")
	if err != nil {
		return "", mongoerr.New(mongoerr.Location40414, "BSON field 'payload' is missing but a required field")
	}
	if _, b, ok := v.BinaryOK(); ok {
		return string(b), nil
	}
	if s, ok := v.StringValueOK(); ok {
		return s, nil
	}
	return "", mongoerr.New(mongoerr.TypeMismatch, "BSON field 'payload' is the wrong type '%s', expected types '[string, binData]'", typeName(v.Type))
}

// startSASL runs the first step of a SCRAM conversation (saslStart, or hello's
// speculativeAuthenticate) and returns the reply fields.
func (n *Node) startSASL(c *conn, db string, cmd bson.Raw, speculative bool) (bson.D, error) {
	mech, _ := cmd.Lookup("mechanism").StringValueOK()
	h, ok := scramHash(mech)
	if !ok || db == "$external" {
		return nil, mongoerr.New(mongoerr.MechanismUnavailable, "Received authentication for mechanism %s which is not enabled", mech)
	}
	payload, err := saslPayload(cmd)
	if err != nil {
		return nil, err
	}
	conv := &saslConv{mech: mech, db: db, speculative: speculative}
	conv.skipEmpty, _ = cmd.Lookup("options", "skipEmptyExchange").BooleanOK()
	var lookupErr error
	// Both conversations share the server nonce, so they send the same server-first message
	// (the keys of a rollover file share their salt) and either may verify the client's proof.
	nonce := newServerNonce()
	newConv := func(key int) *scram.ServerConversation {
		srv, _ := h.NewServer(func(user string) (scram.StoredCredentials, error) {
			u := userName{user: user, db: db}
			sc, err := n.scramCredentials(u, mech, key)
			if key == 0 {
				conv.user, lookupErr = u, err
			}
			return sc, err
		})
		return srv.WithNonceGenerator(func() string { return nonce }).NewConversation()
	}
	conv.srv = newConv(0)
	out, err := conv.srv.Step(payload)
	if err == nil && conv.user.user == internalUserName && conv.user.db == internalUserDB {
		if alt := newConv(1); alt != nil {
			if altOut, aerr := alt.Step(payload); aerr == nil && altOut == out {
				conv.alt = alt
			}
		}
	}
	if err != nil {
		if lookupErr != nil {
			err = lookupErr
		}
		n.logAuthFailure(c, conv, err)
		return nil, errAuthFailed()
	}
	c.authn.mu.Lock()
	c.authn.conv = conv
	c.authn.mu.Unlock()
	return bson.D{{Key: "conversationId", Value: int32(1)}, {Key: "done", Value: false},
		{Key: "payload", Value: bson.Binary{Data: []byte(out)}}}, nil
}

// scramCredentials finds the stored keys of a user for a mechanism; __system@local derives
// them from the key file (security_key.cpp).
// key picks the key of a rollover key file for __system; other users have one credential.
func (n *Node) scramCredentials(u userName, mech string, key int) (scram.StoredCredentials, error) {
	if u.user == internalUserName && u.db == internalUserDB && n.auth.internal != nil {
		if sc, ok := n.auth.internal.credentials(mech, key); ok {
			return sc, nil
		}
		return scram.StoredCredentials{}, errors.New("no alternate key")
	}
	if key > 0 {
		return scram.StoredCredentials{}, errors.New("no alternate credentials")
	}
	doc, ok := n.lookupUser(u)
	if !ok {
		return scram.StoredCredentials{}, fmt.Errorf("UserNotFound: Could not find user \"%s\" for db \"%s\"", u.user, u.db)
	}
	sc, ok := parseCredential(doc, mech)
	if !ok {
		return scram.StoredCredentials{}, fmt.Errorf("BadValue: Unable to use %s based authentication for user without any %s credentials registered", mech, mech)
	}
	return sc, nil
}

func (n *Node) cmdSaslStart(_ context.Context, r *request) (bson.D, error) {
	return n.startSASL(r.c, r.db, r.cmd, false)
}

func (n *Node) cmdSaslContinue(_ context.Context, r *request) (bson.D, error) {
	c := r.c
	c.authn.mu.Lock()
	conv := c.authn.conv
	c.authn.mu.Unlock()
	if conv == nil {
		return nil, mongoerr.New(mongoerr.ProtocolError, "No SASL session state found")
	}
	if id, _ := numberAsInt64(r.cmd.Lookup("conversationId")); id != 1 {
		return nil, mongoerr.New(mongoerr.ProtocolError, "sasl: Mismatched conversation id")
	}
	payload, err := saslPayload(r.cmd)
	if err != nil {
		return nil, err
	}
	done := func(out string) bson.D {
		return bson.D{{Key: "conversationId", Value: int32(1)}, {Key: "done", Value: true},
			{Key: "payload", Value: bson.Binary{Data: []byte(out)}}}
	}
	if conv.verified { // the empty final exchange of clients that do not skip it
		return done(""), nil
	}
	out, err := conv.srv.Step(payload)
	if (err != nil || !conv.srv.Valid()) && conv.alt != nil {
		if altOut, aerr := conv.alt.Step(payload); aerr == nil && conv.alt.Valid() {
			out, err, conv.srv = altOut, nil, conv.alt
		}
	}
	if err != nil || !conv.srv.Valid() {
		if err == nil {
			err = errors.New("invalid proof")
		}
		c.authn.set(c.authn.current())
		n.logAuthFailure(c, conv, err)
		return nil, errAuthFailed()
	}
	u := conv.user
	c.authn.set(&u)
	n.events.info("ACCESS", 20250, "Authentication succeeded", "mechanism", conv.mech, "speculative", conv.speculative,
		"principalName", u.user, "authenticationDatabase", u.db, "remote", c.nc.RemoteAddr().String(), "extraInfo", bson.D{})
	if conv.skipEmpty {
		return done(out), nil
	}
	conv.verified = true
	c.authn.mu.Lock()
	c.authn.conv = conv
	c.authn.mu.Unlock()
	reply := done(out)
	reply[1].Value = false
	return reply, nil
}

// logAuthFailure is doSaslStep's "Authentication failed" (20249, auth/sasl_commands.cpp): the
// reason goes to the log only.
func (n *Node) logAuthFailure(c *conn, conv *saslConv, err error) {
	n.events.info("ACCESS", 20249, "Authentication failed", "mechanism", conv.mech, "speculative", conv.speculative,
		"principalName", conv.user.user, "authenticationDatabase", conv.db,
		"remote", c.nc.RemoteAddr().String(), "extraInfo", bson.D{}, "error", err.Error())
}

// cmdAuthenticate is MONGODB-X509: the user is the subject of the verified client certificate
// and must exist in $external (auth/authenticate.cpp, authentication_commands.cpp).
func (n *Node) cmdAuthenticate(_ context.Context, r *request) (bson.D, error) {
	mech, _ := r.cmd.Lookup("mechanism").StringValueOK()
	if mech != mechX509 {
		return nil, mongoerr.New(mongoerr.MechanismUnavailable, "Received authentication for mechanism %s which is not enabled", mech)
	}
	u, err := n.authenticateX509(r.c, r.db, r.cmd)
	if err != nil {
		return nil, err
	}
	return bson.D{{Key: "dbname", Value: u.db}, {Key: "user", Value: u.user}}, nil
}

func (n *Node) authenticateX509(c *conn, db string, cmd bson.Raw) (userName, error) {
	cert := c.peerCertificate()
	if db != "$external" {
		return userName{}, mongoerr.New(mongoerr.ProtocolError, "X.509 authentication must always use the $external database.")
	}
	if cert == nil {
		n.events.info("ACCESS", 20249, "Authentication failed", "mechanism", mechX509, "remote", c.nc.RemoteAddr().String(),
			"error", "No verified subject name available from client")
		return userName{}, errAuthFailed()
	}
	subject := cert.Subject.String()
	if given, ok := cmd.Lookup("user").StringValueOK(); ok && given != subject {
		return userName{}, errAuthFailed()
	}
	u := userName{user: subject, db: "$external"}
	if n.x509ClusterMember(cert) { // auth/sasl_mechanism_... isClusterMember: same O, OU and DC
		internal := userName{user: internalUserName, db: internalUserDB}
		c.authn.set(&internal)
		return u, nil
	}
	if _, ok := n.lookupUser(u); !ok {
		n.events.info("ACCESS", 20249, "Authentication failed", "mechanism", mechX509, "principalName", subject,
			"remote", c.nc.RemoteAddr().String(), "error", fmt.Sprintf("UserNotFound: Could not find user \"%s\" for db \"$external\"", subject))
		return userName{}, errAuthFailed()
	}
	c.authn.set(&u)
	return u, nil
}

func (n *Node) cmdLogout(_ context.Context, r *request) (bson.D, error) {
	r.c.authn.set(nil)
	return bson.D{}, nil
}

// cmdConnectionStatus reports the session's user and roles (commands/connection_status.cpp).
func (n *Node) cmdConnectionStatus(_ context.Context, r *request) (bson.D, error) {
	users, roles := bson.A{}, bson.A{}
	if u := r.c.authn.current(); u != nil {
		users = append(users, u.doc())
		for _, rn := range n.rolesOf(*u) {
			roles = append(roles, bson.D{{Key: "role", Value: rn.role}, {Key: "db", Value: rn.db}})
		}
	}
	info := bson.D{{Key: "authenticatedUsers", Value: users}, {Key: "authenticatedUserRoles", Value: roles}}
	if show, _ := r.boolArg("showPrivileges"); show {
		info = append(info, bson.E{Key: "authenticatedUserPrivileges", Value: bson.A{}})
	}
	return bson.D{{Key: "authInfo", Value: info}}, nil
}

// helloAuthFields adds saslSupportedMechs and speculativeAuthenticate to a hello reply
// (db/repl/replication_info.cpp, auth/sasl_commands.cpp doSpeculativeSaslStart).
func (n *Node) helloAuthFields(r *request, d bson.D) bson.D {
	if s, ok := r.arg("saslSupportedMechs"); ok {
		if full, ok := s.StringValueOK(); ok {
			if u, ok := splitUserName(full); ok {
				if doc, found := n.lookupUser(u); found {
					mechs := bson.A{}
					for _, m := range userMechanisms(doc) {
						if m != "external" {
							mechs = append(mechs, m)
						}
					}
					d = append(d, bson.E{Key: "saslSupportedMechs", Value: mechs})
				}
			}
		}
	}
	spec, ok, _ := r.docArg("speculativeAuthenticate")
	if !ok {
		return d
	}
	db, _ := spec.Lookup("db").StringValueOK()
	var out bson.D
	var err error
	if _, isAuth := spec.Lookup("authenticate").AsInt64OK(); isAuth || db == "$external" {
		var u userName
		if u, err = n.authenticateX509(r.c, db, spec); err == nil {
			out = bson.D{{Key: "dbname", Value: u.db}, {Key: "user", Value: u.user}}
		}
	} else {
		out, err = n.startSASL(r.c, db, spec, true)
	}
	if err != nil { // the driver falls back to a regular conversation
		return d
	}
	return append(d, bson.E{Key: "speculativeAuthenticate", Value: out})
}

// splitUserName parses "db.user" (hello saslSupportedMechs).
func splitUserName(s string) (userName, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return userName{db: s[:i], user: s[i+1:]}, i > 0 && i < len(s)-1
		}
	}
	return userName{}, false
}

// x509ClusterMember is mongod's member certificate rule with clusterAuthMode x509: a client
// certificate whose O, OU and DC equal this node's own is another member and becomes __system
// (util/net/ssl_manager.cpp, X509 cluster membership).
func (n *Node) x509ClusterMember(cert *x509.Certificate) bool {
	if !strings.Contains(strings.ToLower(n.opts.Security.clusterAuthMode()), "x509") || n.auth.tls == nil {
		return false
	}
	own := n.auth.tls.server.Certificates[0].Leaf
	if own == nil || len(own.Subject.Organization)+len(own.Subject.OrganizationalUnit) == 0 {
		return false
	}
	eq := func(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") }
	return eq(own.Subject.Organization, cert.Subject.Organization) &&
		eq(own.Subject.OrganizationalUnit, cert.Subject.OrganizationalUnit)
}

// newServerNonce is the server's part of the SCRAM nonce: 24 random bytes in base64, as the
// library's default generator makes it.
func newServerNonce() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}
