package mongoemu

// Authentication, authorization and TLS (issue 7 item 11). Where each mongod behaviour lives,
// the server file it follows, and the test that pins it:
//
//	--auth/--keyFile/--clusterAuthMode/--tls* parsing and refusals   auth_options.go
//	    util/net/ssl_options_server.cpp (exit 2)                       cmd/mongoemu TestRunExitCodes
//	key file rules (perms, YAML, base64, 6..1024, rollover), exit 1   keyfile.go, auth_startup.go
//	    db/auth/security_file.cpp, security_key.cpp, mongod_main.cpp   TestKeyFileRules, TestKeyFileRollover
//	SCRAM-SHA-1/256 server (xdg-go/scram), stored credentials          auth_scram.go, auth_sasl.go
//	    db/auth/sasl_commands.cpp, sasl_scram_server_conversation.cpp  TestAuthSCRAMUsersAndRoles
//	speculativeAuthenticate, saslSupportedMechs in hello                auth_sasl.go (helloAuthFields)
//	users in admin.system.users, user management commands              auth_users.go, auth_user_cmds.go
//	    db/commands/user_management_commands.cpp                       TestAuthSCRAMUsersAndRoles
//	built-in roles, command privileges, Unauthorized messages          auth_roles.go, auth_authorize.go
//	    db/auth/builtin_roles.yml, action_type.idl, db/commands.cpp    TestBuiltinRolePrivileges
//	localhost exception                                                 auth_authorize.go, auth_roles.go
//	    db/auth/authorization_session_impl.cpp _getDefaultPrivileges   TestAuthSCRAMUsersAndRoles
//	internal auth as __system@local on every peer connection            auth_internal.go, repl_client.go
//	    client/internal_auth.cpp                                        TestKeyFileSetAuthenticatesMembers,
//	                                                                    e2e TestReplSetAuthTLS
//	TLS modes, member TLS, MONGODB-X509                                 tls.go, auth_sasl.go
//	    transport/asio, util/net/ssl_manager_openssl.cpp               TestTLSRequireAndX509, TestPymongoAuthTLS
