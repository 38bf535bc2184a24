package client

// SetTalkgroup marks a joined room as a talkgroup (on) or not, and returns the
// rooms that are.
func (c *Client) SetTalkgroup(room string, on bool) ([]string, error) {
	var r struct {
		Talkgroups []string `json:"talkgroups"`
	}
	err := c.run("talkgroup", &args{Room: room, On: &on}, &r)
	return r.Talkgroups, err
}

// PTT presses (on) or releases the talk key in a talkgroup. Pressed while
// another talks, the node answers ok and emits ptt_busy: it is queued.
func (c *Client) PTT(room string, on bool) error {
	return c.run("ptt", &args{Room: room, On: &on}, nil)
}

// PTTReplay plays a talkgroup's last transmission to the node's speaker.
func (c *Client) PTTReplay(room string) error {
	return c.run("ptt_replay", &args{Room: room}, nil)
}
