// Package mongoerr holds the server error codes mongoemu answers with, and the
// command error type every emulator package returns. Codes and names are the
// ones of mongo's src/mongo/base/error_codes.yml (docs/mongod-spec.md §5.7, §6).
package mongoerr

// Code is a server error code as sent on the wire (BSON int32, spec §0).
type Code int32

// The codes the emulator produces. Keep names exactly as error_codes.yml spells them.
const (
	InternalError                          Code = 1
	BadValue                               Code = 2
	NoSuchKey                              Code = 4
	HostUnreachable                        Code = 6
	Unauthorized                           Code = 13
	TypeMismatch                           Code = 14
	Overflow                               Code = 15
	InvalidLength                          Code = 16
	IllegalOperation                       Code = 20
	NamespaceNotFound                      Code = 26
	AlreadyInitialized                     Code = 23
	LockTimeout                            Code = 24
	CursorNotFound                         Code = 43
	NamespaceExists                        Code = 48
	CommandNotFound                        Code = 59
	WriteConcernFailed                     Code = 64
	InvalidOptions                         Code = 72
	InvalidNamespace                       Code = 73
	NodeNotFound                           Code = 74
	NoReplicationEnabled                   Code = 76
	UnknownReplWriteConcern                Code = 79
	ShutdownInProgress                     Code = 91
	InvalidReplicaSetConfig                Code = 93
	NotYetInitialized                      Code = 94
	NotSecondary                           Code = 95
	OperationFailed                        Code = 96
	UnsatisfiableWriteConcern              Code = 100
	OutdatedClient                         Code = 101
	NewReplicaSetConfigurationIncompatible Code = 103
	NodeNotElectable                       Code = 104
	ConfigurationInProgress                Code = 109
	CannotInitializeNodeWithData           Code = 110
	ConflictingOperationInProgress         Code = 117
	OplogStartMissing                      Code = 120
	CommandFailed                          Code = 125
	CappedPositionLost                     Code = 136
	ReadConcernMajorityNotAvailableYet     Code = 134
	PrimarySteppedDown                     Code = 189
	MaxTimeMSExpired                       Code = 50
	IllegalOpMsgFlag                       Code = 223
	ExceededTimeLimit                      Code = 262
	CurrentConfigNotCommittedYet           Code = 308
	UnsupportedOpQueryCommand              Code = 352
	DuplicateKey                           Code = 11000
	InterruptedAtShutdown                  Code = 11600
	InterruptedDueToReplStateChange        Code = 11602
	NotWritablePrimary                     Code = 10107
	NotPrimaryNoSecondaryOk                Code = 13435
	NotPrimaryOrSecondary                  Code = 13436
	LegacyNotPrimary                       Code = 10058
	FailedToParse                          Code = 9
	UnknownError                           Code = 8
	ProtocolError                          Code = 17
	Location40414                          Code = 40414 // IDL "BSON field ... is missing but a required field"
	Location40415                          Code = 40415 // IDL unknown field
	UnrecoverableRollbackError             Code = 127
	ImmutableField                         Code = 66
	InvalidIdField                         Code = 53
	ConflictingUpdateOperators             Code = 40
	DollarPrefixedFieldName                Code = 52
	EmptyFieldName                         Code = 56
	BSONObjectTooLarge                     Code = 10334
	Location51024                          Code = 51024 // batchSize negative
	DBPathInUse                            Code = 98
	IndexNotFound                          Code = 27
	PathNotViable                          Code = 28
	IndexOptionsConflict                   Code = 85
	IndexKeySpecsConflict                  Code = 86
	QueryPlanKilled                        Code = 175
	TransactionTooOld                      Code = 225
	CursorInUse                            Code = 292
	InvalidPipelineOperator                Code = 168
	LockBusy                               Code = 46
	LinearizableReadConcernError           Code = 147
	SnapshotUnavailable                    Code = 246
)

var names = map[Code]string{
	InternalError: "InternalError", BadValue: "BadValue", NoSuchKey: "NoSuchKey",
	HostUnreachable: "HostUnreachable", Unauthorized: "Unauthorized", TypeMismatch: "TypeMismatch",
	Overflow: "Overflow", InvalidLength: "InvalidLength", IllegalOperation: "IllegalOperation",
	NamespaceNotFound: "NamespaceNotFound", AlreadyInitialized: "AlreadyInitialized",
	CursorNotFound: "CursorNotFound", NamespaceExists: "NamespaceExists",
	CommandNotFound: "CommandNotFound", WriteConcernFailed: "WriteConcernFailed",
	InvalidOptions: "InvalidOptions", InvalidNamespace: "InvalidNamespace", NodeNotFound: "NodeNotFound",
	NoReplicationEnabled: "NoReplicationEnabled", UnknownReplWriteConcern: "UnknownReplWriteConcern",
	ShutdownInProgress: "ShutdownInProgress", InvalidReplicaSetConfig: "InvalidReplicaSetConfig",
	NotYetInitialized: "NotYetInitialized", NotSecondary: "NotSecondary", OperationFailed: "OperationFailed",
	UnsatisfiableWriteConcern: "UnsatisfiableWriteConcern", OutdatedClient: "OutdatedClient",
	NewReplicaSetConfigurationIncompatible: "NewReplicaSetConfigurationIncompatible",
	NodeNotElectable:                       "NodeNotElectable", ConfigurationInProgress: "ConfigurationInProgress",
	CannotInitializeNodeWithData:   "CannotInitializeNodeWithData",
	ConflictingOperationInProgress: "ConflictingOperationInProgress", OplogStartMissing: "OplogStartMissing",
	CommandFailed: "CommandFailed", CappedPositionLost: "CappedPositionLost",
	ReadConcernMajorityNotAvailableYet: "ReadConcernMajorityNotAvailableYet",
	PrimarySteppedDown:                 "PrimarySteppedDown", MaxTimeMSExpired: "MaxTimeMSExpired",
	IllegalOpMsgFlag: "IllegalOpMsgFlag", ExceededTimeLimit: "ExceededTimeLimit",
	CurrentConfigNotCommittedYet: "CurrentConfigNotCommittedYet",
	UnsupportedOpQueryCommand:    "UnsupportedOpQueryCommand", DuplicateKey: "DuplicateKey",
	InterruptedAtShutdown:           "InterruptedAtShutdown",
	InterruptedDueToReplStateChange: "InterruptedDueToReplStateChange",
	NotWritablePrimary:              "NotWritablePrimary", NotPrimaryNoSecondaryOk: "NotPrimaryNoSecondaryOk",
	NotPrimaryOrSecondary: "NotPrimaryOrSecondary", LegacyNotPrimary: "LegacyNotPrimary",
	FailedToParse: "FailedToParse", UnknownError: "UnknownError", ProtocolError: "ProtocolError",
	Location40414: "Location40414", Location40415: "Location40415",
	UnrecoverableRollbackError: "UnrecoverableRollbackError", ImmutableField: "ImmutableField",
	InvalidIdField: "InvalidIdField", ConflictingUpdateOperators: "ConflictingUpdateOperators",
	DollarPrefixedFieldName: "DollarPrefixedFieldName", EmptyFieldName: "EmptyFieldName",
	BSONObjectTooLarge: "BSONObjectTooLarge", Location51024: "Location51024",
	DBPathInUse: "DBPathInUse", LockBusy: "LockBusy", IndexNotFound: "IndexNotFound",
	PathNotViable: "PathNotViable", IndexOptionsConflict: "IndexOptionsConflict",
	IndexKeySpecsConflict: "IndexKeySpecsConflict", QueryPlanKilled: "QueryPlanKilled",
	TransactionTooOld: "TransactionTooOld", CursorInUse: "CursorInUse",
	InvalidPipelineOperator: "InvalidPipelineOperator", LockTimeout: "LockTimeout",
	LinearizableReadConcernError: "LinearizableReadConcernError", SnapshotUnavailable: "SnapshotUnavailable",
}

// Name is the codeName sent beside the code; unknown codes get "Location<N>" like mongod.
func (c Code) Name() string {
	if n, ok := names[c]; ok {
		return n
	}
	return "Location" + itoa(int32(c))
}

func itoa(v int32) string {
	if v == 0 {
		return "0"
	}
	neg := v < 0
	var b [12]byte
	i := len(b)
	u := int64(v)
	if neg {
		u = -u
	}
	for u > 0 {
		i--
		b[i] = byte('0' + u%10)
		u /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// notPrimaryCategory lists the NotPrimaryError category: replies carry topologyVersion (spec §5.7).
var notPrimaryCategory = map[Code]bool{
	NotWritablePrimary: true, NotPrimaryNoSecondaryOk: true, NotPrimaryOrSecondary: true,
	LegacyNotPrimary: true, InterruptedDueToReplStateChange: true, PrimarySteppedDown: true,
}

// IsNotPrimary reports whether c is in the NotPrimaryError category.
func (c Code) IsNotPrimary() bool { return notPrimaryCategory[c] }

// retryable are the codes whose failed retryable write gets the RetryableWriteError label (spec §5.7).
var retryable = map[Code]bool{
	HostUnreachable: true, 7: true, 89: true, ShutdownInProgress: true, PrimarySteppedDown: true,
	ExceededTimeLimit: true, 9001: true, NotWritablePrimary: true, InterruptedAtShutdown: true,
	InterruptedDueToReplStateChange: true, NotPrimaryNoSecondaryOk: true, NotPrimaryOrSecondary: true,
	WriteConcernFailed: false,
}

// IsRetryable reports whether a retryable write failing with c is labelled RetryableWriteError.
func (c Code) IsRetryable() bool { return retryable[c] }
