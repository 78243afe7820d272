package mongoemu

func (n *Node) registerCRUD(t commandTable) {}
