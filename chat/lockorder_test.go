package chat

import (
	"fmt"
	"sync"
	"testing"
)

// TestRoomUpdatesDuringRoomMessages: a peer's record keeps changing the rooms it
// advertises (Rooms writes each change to the store under its own lock) while room
// messages from that peer are committed (inside a store transaction, which must know
// whether this node is a member). Before the fix, the committer asked Rooms inside
// the transaction, the record handler held Rooms' lock while waiting for the store,
// and the node deadlocked; the soak found it as a node that never quit. Here the
// two run against each other until every message is in. A deadlock cannot be
// failed cleanly (the nodes' cleanup would wait on the stuck committer too), so
// it hangs until go test's -timeout, whose dump shows both goroutines.
func TestRoomUpdatesDuringRoomMessages(t *testing.T) {
	_, nodes := meshNodes(t, 2)
	a, b := nodes[0], nodes[1]
	room, err := a.rooms.Join("lobby")
	if err != nil {
		t.Fatal(err)
	}
	oneRoom := a.rooms.Ads()
	if _, err := a.rooms.Join("side"); err != nil {
		t.Fatal(err)
	}
	twoRooms := a.rooms.Ads()
	propagate(t, a, b)
	if _, err := b.rooms.Join(room.ID); err != nil {
		t.Fatal(err)
	}
	propagate(t, a, b)

	const messages = 300
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		// Alternating ads make "side" appear and vanish, so every other update
		// writes a room to b's store while holding the Rooms lock.
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			ads := oneRoom
			if i%2 == 0 {
				ads = twoRooms
			}
			if _, err := b.rooms.UpdatePeer(a.id.ID, ads); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	var ids []string
	for i := 0; i < messages; i++ {
		ids = append(ids, sayOK(t, a, room.ID, fmt.Sprintf("m%d", i)).ID)
	}
	for _, id := range ids {
		b.waitReceived(id)
	}
	close(stop)
	wg.Wait()
}
