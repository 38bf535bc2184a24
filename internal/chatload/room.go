package chatload

import (
	"fmt"
	"time"
)

// SetupRoom has the first room member create the room name, every other room
// member join it once it has learned of it, and waits until every member lists
// all of them: before that, the first room messages would legitimately miss a
// member nobody knew had joined.
func (l *Load) SetupRoom(name string, timeout time.Duration) error {
	first, _, _ := l.Members[l.RoomMembers[0]].Current()
	r, err := first.Join(name)
	if err != nil {
		return err
	}
	l.Room = r.ID
	for _, i := range l.RoomMembers[1:] {
		m := l.Members[i]
		p, _, _ := m.Current()
		if err := poll(timeout, func() (bool, error) {
			list, err := p.Rooms()
			for _, rm := range list {
				if rm.ID == l.Room {
					return true, nil
				}
			}
			return false, err
		}); err != nil {
			return fmt.Errorf("%s never learned the room: %w", m.Name, err)
		}
		if _, err := p.Join(l.Room); err != nil {
			return err
		}
	}
	for _, i := range l.RoomMembers {
		m := l.Members[i]
		p, _, _ := m.Current()
		n := 0
		if err := poll(timeout, func() (bool, error) {
			list, err := p.Rooms()
			for _, rm := range list {
				if rm.ID == l.Room {
					n = len(rm.Members)
				}
			}
			return n >= len(l.RoomMembers), err
		}); err != nil {
			return fmt.Errorf("%s lists %d room members, want %d: %w", m.Name, n, len(l.RoomMembers), err)
		}
	}
	return nil
}

// poll calls done every 300 ms until it reports true, fails, or timeout passes.
func poll(timeout time.Duration, done func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := done()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %v", timeout)
		}
		time.Sleep(300 * time.Millisecond)
	}
}
