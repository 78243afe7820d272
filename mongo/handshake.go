package mongo

// HandshakeFailed reports whether a call failed because the mongod ended the connection during
// the driver's handshake, rather than refusing it (nothing listens) or staying silent: a server
// that requires TLS from a plain-text client (it closes the socket, transport/asio
// asio_session_impl.cpp "The server is configured to only allow SSL connections"), or one that
// refuses our login. The process is there, so this is a fault of our settings, not a sign that it
// is gone. A caller deadline shorter than server selection reports the failure as a timeout
// (Classify); the server's last monitoring error still tells them apart.
func HandshakeFailed(err error) bool {
	if err == nil || refused(err) {
		return false
	}
	sel, ok := selectionError(err)
	if !ok {
		return false
	}
	for _, s := range sel.Desc.Servers {
		if s.LastError != nil && !timedOut(s.LastError) {
			return true
		}
	}
	return false
}
