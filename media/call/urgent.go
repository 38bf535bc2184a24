package call

// endOthers hangs up every call but c (every call, for nil): an urgent call
// that rang while another call was under way (onInvite lets it) takes the
// line once answered, and placing an urgent call ends the caller's own, so
// the audio device and the user's attention are its alone.
func (m *Manager) endOthers(c *call) {
	m.mu.Lock()
	var others []ID
	for id, o := range m.calls {
		if o != c && o.state() != StateEnded {
			others = append(others, id)
		}
	}
	m.mu.Unlock()
	for _, id := range others {
		if err := m.Hangup(id); err != nil {
			m.cfg.Log.Debug("urgent call: other call not ended", "call", id, "err", err)
		}
	}
}

// isUrgent says whether call is an urgent call of this node's.
func (m *Manager) isUrgent(call ID) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.calls[call]
	return c != nil && c.urgent
}
