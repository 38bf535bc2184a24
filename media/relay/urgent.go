package relay

import "time"

// Urgent calls (issue 24): a relay lets an urgent call through at its session
// cap. Credentials from IssueUrgent may allocate up to UrgentSessions beyond
// MaxSessions; the per-host and per-credential caps and the bandwidth budget
// still hold (a voice leg needs ~50 kbit/s of the default 2 Mbit/s).
//
// Anyone in a call can ask for an urgent grant, so the room is small and
// bounded: at most UrgentSessions extra allocations in all, and at most
// maxUrgentCalls calls remembered as urgent (each until its credentials
// expire), so the claim costs a hostile caller nothing it could not take
// anyway beyond two sessions.
const (
	UrgentSessions = 2
	maxUrgentCalls = 64
)

// IssueUrgent is Issue for an urgent call's leg: its allocations may exceed
// MaxSessions by up to UrgentSessions (refused_cap counts them only beyond).
func (s *Server) IssueUrgent(callID, holder string) Credentials {
	c := s.Issue(callID, holder)
	if c.Username == "" {
		return c
	}
	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.urgent == nil {
		s.urgent = map[string]time.Time{}
	}
	for id, until := range s.urgent {
		if now.After(until) {
			delete(s.urgent, id)
		}
	}
	if _, ok := s.urgent[callID]; ok || len(s.urgent) < maxUrgentCalls {
		s.urgent[callID] = c.Expires
	}
	return c
}

// sessionCapLocked is the session cap an allocation for callID meets.
func (s *Server) sessionCapLocked(callID string) int {
	if until, ok := s.urgent[callID]; ok && !s.cfg.Now().After(until) {
		return s.cfg.MaxSessions + UrgentSessions
	}
	return s.cfg.MaxSessions
}
