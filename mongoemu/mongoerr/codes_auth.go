package mongoerr

// Codes of the authentication and authorization paths (error_codes.yml), kept apart so the
// auth work does not touch the shared table above.
const (
	UserNotFound         Code = 11
	AuthenticationFailed Code = 18
	RoleNotFound         Code = 31
	MechanismUnavailable Code = 334
	Location51003        Code = 51003 // createUser: User "x@db" already exists
	InvalidPath          Code = 30
	UnsupportedFormat    Code = 140
)

func init() {
	names[UserNotFound] = "UserNotFound"
	names[AuthenticationFailed] = "AuthenticationFailed"
	names[RoleNotFound] = "RoleNotFound"
	names[MechanismUnavailable] = "MechanismUnavailable"
	names[InvalidPath] = "InvalidPath"
	names[UnsupportedFormat] = "UnsupportedFormat"
}
