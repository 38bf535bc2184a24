package call

import (
	"io"
	"log/slog"
	"net"
	"testing"
	"testing/synctest"

	"github.com/pion/transport/v2"

	"parley/media/signal"
)

// listless is a network whose system lists no interfaces (as Wine's does), but
// whose sockets work.
type listless struct{ transport.Net }

func (listless) Interfaces() ([]*transport.Interface, error) { return nil, nil }
func (listless) InterfaceByName(name string) (*transport.Interface, error) {
	return nil, transport.ErrInterfaceNotFound
}

// listed is a network that lists one interface.
type listed struct{ transport.Net }

func (listed) Interfaces() ([]*transport.Interface, error) {
	ifc := transport.NewInterface(net.Interface{Index: 2, Name: "eth0", Flags: net.FlagUp})
	ifc.AddAddress(&net.IPNet{IP: net.IPv4(192, 168, 1, 10), Mask: net.CIDRMask(24, 32)})
	return []*transport.Interface{ifc}, nil
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestFallbackNetStandsInOnlyForAnEmptyList(t *testing.T) {
	probes := 0
	probe := func() []net.IP { probes++; return []net.IP{net.IPv4(10, 0, 0, 7).To4()} }

	f := &fallbackNet{Net: listless{}, probe: probe, log: quiet}
	ifs, err := f.Interfaces()
	if err != nil || len(ifs) != 1 {
		t.Fatalf("unlisted: %d interfaces, %v; want the stand-in", len(ifs), err)
	}
	s := ifs[0]
	addrs, err := s.Addrs()
	if s.Name != standInName || s.Flags&net.FlagUp == 0 || err != nil || len(addrs) != 1 ||
		!addrs[0].(*net.IPNet).IP.Equal(net.IPv4(10, 0, 0, 7)) {
		t.Fatalf("stand-in %+v addrs %v (%v)", s.Interface, addrs, err)
	}
	if ifc, err := f.InterfaceByName(standInName); err != nil || ifc.Name != standInName {
		t.Fatalf("InterfaceByName(default) = %v, %v", ifc, err)
	}
	// localInterfaces (pion ICE) keeps it: up, not loopback, an IPv4 address.
	if ips, err := localIPs(f); err != nil || len(ips) != 1 || !ips[0].Equal(net.IPv4(10, 0, 0, 7)) {
		t.Fatalf("ICE would gather on %v (%v)", ips, err)
	}

	probes = 0
	f = &fallbackNet{Net: listed{}, probe: probe, log: quiet}
	ifs, _ = f.Interfaces()
	if len(ifs) != 1 || ifs[0].Name != "eth0" || probes != 0 {
		t.Fatalf("listed: %d interfaces (%v), %d probes; want the system's, unprobed", len(ifs), ifs, probes)
	}

	f = &fallbackNet{Net: listless{}, probe: func() []net.IP { return nil }, log: quiet}
	if ifs, err := f.Interfaces(); len(ifs) != 0 || err != nil {
		t.Fatalf("nothing found: %v, %v; want an empty list", ifs, err)
	}
}

// localIPs is what ICE gathers on: up, non-loopback interfaces' IPv4 addresses
// (pion ice localInterfaces, restated).
func localIPs(n transport.Net) ([]net.IP, error) {
	ifs, err := n.Interfaces()
	var out []net.IP
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && !ipn.IP.IsLoopback() {
				out = append(out, ipn.IP)
			}
		}
	}
	return out, err
}

// TestCallWithUnlistedInterfaces: bob's system lists no interfaces (Wine). With
// the stand-in his leg gathers a candidate and the call carries alice's tone;
// without it the leg has nothing to offer and fails.
func TestCallWithUnlistedInterfaces(t *testing.T) {
	for _, standIn := range []bool{true, false} {
		name := map[bool]string{true: "stand-in", false: "no stand-in"}[standIn]
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				lab := newVnetLab(t, 0, 0, nil)
				var b bus
				alice := b.newParty(t, 1, lab.net(t), nil)
				vn := lab.net(t)
				ip := vnetIP(t, vn)
				var bobNet transport.Net = listless{vn}
				if standIn {
					bobNet = &fallbackNet{Net: listless{vn}, probe: func() []net.IP { return []net.IP{ip} }, log: quiet}
				}
				bob := b.newParty(t, 2, bobNet, nil)
				lab.start(t)

				id, err := alice.m.Call(bob.id)
				if err != nil {
					t.Fatal(err)
				}
				answerIncoming(t, bob)
				if !standIn {
					// Alice's leg finds no pair and gives up; bob hears it.
					if e := alice.ev.waitState(t, StateEnded); e.Call != id || e.Reason != ReasonFailed {
						t.Fatalf("alice ended %s (%s), want %s failed", e.Call, e.Reason, id)
					}
					bob.ev.waitState(t, StateEnded)
					for _, p := range []*party{alice, bob} {
						if p.ev.has(func(ev any) bool { s, ok := ev.(StateChanged); return ok && s.State == StateActive }) {
							t.Fatal("the call went active with no candidates on one side")
						}
					}
					return
				}
				bob.ev.waitState(t, StateActive)
				heard := flatten(audible(waitFrames(t, bob, 100)))
				if f := signal.DominantFrequency(heard, 48000); f < 540 || f > 560 {
					t.Fatalf("bob heard %.0f Hz, alice sent 550", f)
				}
				frames := audible(waitFrames(t, alice, 100))
				if len(frames) == 0 {
					t.Fatal("alice heard nothing from bob")
				}
				if err := alice.m.Hangup(id); err != nil {
					t.Fatal(err)
				}
				bob.ev.waitState(t, StateEnded)
			})
		})
	}
}

// vnetIP is the address of a virtual network's eth0.
func vnetIP(t *testing.T, n transport.Net) net.IP {
	t.Helper()
	ifc, err := n.InterfaceByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := ifc.Addrs()
	if err != nil || len(addrs) == 0 {
		t.Fatalf("eth0 addrs %v, %v", addrs, err)
	}
	return addrs[0].(*net.IPNet).IP
}

// has reports whether an event matching f was recorded.
func (r *recorder) has(f func(any) bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ev := range r.events {
		if f(ev) {
			return true
		}
	}
	return false
}
