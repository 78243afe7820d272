package mongoemu

func (n *Node) registerMisc(t commandTable) {}
