package client

import "parley/node"

// SendUrgent sends an urgent message to a peer ("urgent":true on send) and
// returns its ID: it is sent again until the peer acknowledges it.
func (c *Client) SendUrgent(to, text string) (string, error) {
	var r struct {
		ID string `json:"id"`
	}
	err := c.run("send", &args{To: to, Text: text, Urgent: true}, &r)
	return r.ID, err
}

// SayUrgent sends an urgent message to every other member of a room.
func (c *Client) SayUrgent(room, text string) (string, error) {
	var r struct {
		ID string `json:"id"`
	}
	err := c.run("say", &args{Room: room, Text: text, Urgent: true}, &r)
	return r.ID, err
}

// CallUrgent places an urgent call: it rings a callee that is busy or in a
// call.
func (c *Client) CallUrgent(peers ...string) (string, error) {
	var r struct {
		Call string `json:"call"`
	}
	a := &args{Urgent: true}
	if len(peers) == 1 {
		a.To = peers[0]
	} else {
		a.Peers = peers
	}
	err := c.run("call", a, &r)
	return r.Call, err
}

// Alert raises an all-hands alert and returns its ID.
func (c *Client) Alert(text string) (string, error) {
	var r struct {
		ID string `json:"id"`
	}
	err := c.run("alert", &args{Text: text}, &r)
	return r.ID, err
}

// Ack acknowledges an urgent message or alert received by this node.
func (c *Client) Ack(id string) error { return c.run("ack", &args{ID: id}, nil) }

// CancelUrgent stops sending an urgent item this node sent.
func (c *Client) CancelUrgent(id string) error { return c.run("cancel_urgent", &args{ID: id}, nil) }

// Unacked lists the urgent items not yet acknowledged here and those this
// node sent and has not cancelled.
func (c *Client) Unacked() (node.UrgentList, error) {
	var r node.UrgentList
	err := c.run("unacked", nil, &r)
	return r, err
}
