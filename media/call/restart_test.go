package call

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pion/transport/v2/vnet"
	"github.com/pion/turn/v2"

	"parley/identity"
)

// TestBlockedDirectPathFallsBackToRelay: alice and bob share a network but
// UDP between them is dropped (the overlay, which carries the signalling,
// still works). The leg cannot connect directly, so alice retries it through
// the relay peer r, and the call runs with r named as its relay.
func TestBlockedDirectPathFallsBackToRelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const aliceIP, bobIP, relayIP = "10.99.0.11", "10.99.0.12", "10.99.0.13"
		var mu sync.Mutex
		blocked := 0
		lab := newVnetLab(t, 0, 0, nil)
		lab.router.AddChunkFilter(func(c vnet.Chunk) bool {
			src, dst := c.SourceAddr().(*net.UDPAddr).IP.String(), c.DestinationAddr().(*net.UDPAddr).IP.String()
			if (src == aliceIP && dst == bobIP) || (src == bobIP && dst == aliceIP) {
				mu.Lock()
				blocked++
				mu.Unlock()
				return false
			}
			return true
		})
		var b bus
		var relayID identity.PeerID
		relayID[0], relayID[15] = 9, 9
		withRelay := func(c *Config) {
			c.RelayCandidates = func(identity.PeerID) []identity.PeerID { return []identity.PeerID{relayID} }
		}
		alice := b.newParty(t, 1, lab.net(t), withRelay)
		bob := b.newParty(t, 2, lab.net(t), withRelay)
		relayNet := lab.net(t)
		// The relay hears when the leg ends (leg.releaseRelay) and revokes it.
		revoked := make(chan [2]identity.PeerID, 4)
		b.newParty(t, 9, relayNet, func(c *Config) {
			c.RevokeRelay = func(_ ID, asker, peer identity.PeerID) { revoked <- [2]identity.PeerID{asker, peer} }
			c.IssueRelay = func(ID, identity.PeerID, identity.PeerID) (*Relay, error) {
				return &Relay{URLs: []string{fmt.Sprintf("turn:%s:3478?transport=udp", relayIP)}, Username: "u", Password: "p"}, nil
			}
		})
		lab.start(t)

		// A TURN server on the relay's virtual host.
		pc, err := relayNet.ListenPacket("udp4", relayIP+":3478")
		if err != nil {
			t.Fatal(err)
		}
		srv, err := turn.NewServer(turn.ServerConfig{
			Realm: "parley",
			AuthHandler: func(user, realm string, _ net.Addr) ([]byte, bool) {
				return turn.GenerateAuthKey(user, realm, "p"), user == "u"
			},
			PacketConnConfigs: []turn.PacketConnConfig{{
				PacketConn:            pc,
				RelayAddressGenerator: &turn.RelayAddressGeneratorStatic{RelayAddress: net.ParseIP(relayIP), Address: relayIP, Net: relayNet},
			}},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })

		if _, err := alice.m.Call(bob.id); err != nil {
			t.Fatal(err)
		}
		answerIncoming(t, bob)
		for _, p := range []*party{alice, bob} {
			st := p.ev.wait(t, "relayed audio", func(ev any) bool {
				s, ok := ev.(Stats)
				return ok && s.FramesPlayed > 25 && !s.Relay.IsZero()
			}).(Stats)
			if st.Relay != relayID {
				t.Fatalf("party %d relayed by %s, want %s (%+v)", p.id[0], st.Relay.Short(), relayID.Short(), st)
			}
			t.Logf("party %d: path %s via %s, setup %v", p.id[0], st.Path, st.Relay.Short(), st.SetupTime)
		}
		mu.Lock()
		if blocked == 0 {
			t.Fatal("the filter dropped nothing: the direct path was never tried")
		}
		mu.Unlock()
		// Hang-up: the relay revokes the leg's credential (asker alice, peer bob).
		calls := alice.m.Active()
		if len(calls) != 1 {
			t.Fatalf("alice's calls: %+v", calls)
		}
		if err := alice.m.Hangup(calls[0].Call); err != nil {
			t.Fatal(err)
		}
		select {
		case leg := <-revoked:
			if leg != [2]identity.PeerID{alice.id, bob.id} {
				t.Fatalf("revoked leg %v, want alice→bob", leg)
			}
		case <-time.After(waitLimit):
			t.Fatal("the relay was never told the leg ended")
		}
	})
}
