package overlay

import (
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"time"

	"parley/identity"
	"parley/internal/team"
	"parley/internal/wire"
)

// TypeTeamProof is the first frame each side of a link sends in a closed team
// (Config.Team set): a team.Tag over the link's TLS exporter value, for the
// domain "link-client" (the dialer's) or "link-server" (the listener's). The
// dialer sends its proof first; the listener sends its own only after checking
// the dialer's, so an unproven dialer gets nothing to guess passphrases against.
//
//	payload: tag [16]   = Tag(role, TLS-Exporter("parley team link v1", no context, 32 bytes))
//
// The exporter value is unique to the TLS session, so a proof cannot be
// replayed on another link, and the role in the domain stops a listener from
// echoing the dialer's own proof back to it. Either side closes the link when
// the first frame it reads is not a valid proof (counted as link_refused_team).
const TypeTeamProof = wire.FrameTeamProof

// RecordExtTeam is the record extension a closed team's records carry: the
// author's proof that it holds the team key,
//
//	value: tag [16] = Tag("record", author public key [32], seq as u64 big-endian)
//
// A node with a team key drops records without it (record_drop_team).
const RecordExtTeam = wire.RecordExtTeam

// teamProofTimeout bounds the wait for the peer's proof.
const teamProofTimeout = 5 * time.Second

// admit decides whether an authenticated connection may become a link: not
// from a blocked peer, and, in a closed team, only with a valid team proof.
func (o *Overlay) admit(conn *tls.Conn, id identity.PeerID, outbound bool) bool {
	if o.cfg.Refuse != nil && o.cfg.Refuse(id) {
		o.stats.Add("link_refused_blocked", 1)
		conn.Close()
		return false
	}
	if o.cfg.Team == nil {
		return true
	}
	if err := teamProof(conn, o.cfg.Team, outbound); err != nil {
		o.stats.Add("link_refused_team", 1)
		o.log.Info("link refused: no team proof", "peer", id.Short(), "err", err)
		conn.Close()
		return false
	}
	return true
}

// teamProof exchanges proofs (see TypeTeamProof): the dialer proves first, and
// the listener answers only a valid proof. A stranger that dials a member
// therefore learns nothing it could test passphrase guesses against
// (TestListenerWaitsForDialerProof); a dialer only proves to an address it
// chose, which a member takes from the team's own (tagged) beacons, records and
// DNS-SD answers, or from its user.
func teamProof(conn *tls.Conn, key *team.Key, outbound bool) error {
	st := conn.ConnectionState()
	ekm, err := st.ExportKeyingMaterial("parley team link v1", nil, 32)
	if err != nil {
		return fmt.Errorf("tls exporter: %w", err)
	}
	mine, theirs := "link-server", "link-client"
	if outbound {
		mine, theirs = theirs, mine
	}
	conn.SetDeadline(time.Now().Add(teamProofTimeout))
	defer conn.SetDeadline(time.Time{})
	send := func() error {
		if _, err := conn.Write(AppendFrame(nil, TypeTeamProof, key.Tag(mine, ekm))); err != nil {
			return fmt.Errorf("send proof: %w", err)
		}
		return nil
	}
	if outbound {
		if err := send(); err != nil {
			return err
		}
	}
	tag, err := readTeamProof(conn)
	if err != nil {
		return err
	}
	if !key.Check(tag, theirs, ekm) {
		return fmt.Errorf("wrong team proof")
	}
	if !outbound {
		return send()
	}
	return nil
}

// teamRecordTag is the RecordExtTeam value for an author's record seq.
func teamRecordTag(key *team.Key, pub []byte, seq uint64) []byte {
	return key.Tag("record", pub, binary.BigEndian.AppendUint64(nil, seq))
}

// teamRecordOK reports whether rec carries a valid team extension.
func teamRecordOK(key *team.Key, rec *Record) bool {
	for _, e := range rec.Extensions {
		if e.Type == RecordExtTeam {
			return key.Check(e.Value, "record", rec.PubKey, binary.BigEndian.AppendUint64(nil, rec.Seq))
		}
	}
	return false
}

// Forget drops a peer the user blocked: its link closes and its record goes,
// so it is neither a neighbour nor part of any route (Config.Refuse keeps it
// out afterwards).
func (o *Overlay) Forget(id identity.PeerID) {
	o.mu.Lock()
	l := o.links[id]
	delete(o.records, id)
	delete(o.heard, id)
	delete(o.kept, id)
	delete(o.everOnline, id)
	o.mu.Unlock()
	if l != nil {
		l.Close()
	}
	o.recompute()
}
