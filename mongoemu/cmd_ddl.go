package mongoemu

func (n *Node) registerDDL(t commandTable) {}
