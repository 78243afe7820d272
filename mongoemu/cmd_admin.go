package mongoemu

func (n *Node) registerAdmin(t commandTable) {}
