package sysinfo

import (
	"os"
	"path/filepath"
	"testing"
)

func write(t *testing.T, root string, rel, content string) {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLinkType(t *testing.T) {
	root := t.TempDir()
	write(t, root, "sys/class/net/wlan0/wireless/x", "")
	write(t, root, "sys/class/net/wlp2s0/phy80211/name", "phy0")
	write(t, root, "sys/class/net/eth0/type", "1")
	r := Reader{Root: root}
	for iface, want := range map[string]LinkType{"wlan0": LinkWireless, "wlp2s0": LinkWireless, "eth0": LinkWired, "nope": LinkUnknown} {
		if got := r.LinkTypeOf(iface); got != want {
			t.Errorf("%s: %v, want %v", iface, got, want)
		}
	}
}

func TestPowerSource(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  Power
	}{
		{"no supplies", nil, PowerUnknown},
		{"laptop unplugged", map[string]string{"AC/type": "Mains", "AC/online": "0", "BAT0/type": "Battery", "BAT0/status": "Discharging"}, PowerBattery},
		{"laptop plugged", map[string]string{"AC/type": "Mains", "AC/online": "1", "BAT0/type": "Battery", "BAT0/status": "Charging"}, PowerMains},
		{"battery full, no AC entry", map[string]string{"BAT0/type": "Battery", "BAT0/status": "Full"}, PowerMains},
		{"desktop with mains", map[string]string{"ACAD/type": "Mains", "ACAD/online": "1"}, PowerMains},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			if c.files != nil {
				os.MkdirAll(filepath.Join(root, "sys/class/power_supply"), 0o755)
			}
			for rel, v := range c.files {
				write(t, root, "sys/class/power_supply/"+rel, v)
			}
			if got := (Reader{Root: root}).PowerSource(); got != c.want {
				t.Fatalf("%v, want %v", got, c.want)
			}
		})
	}
}

func TestCPUTimes(t *testing.T) {
	root := t.TempDir()
	write(t, root, "proc/stat", "cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3 4")
	total, idle, ok := (Reader{Root: root}).CPUTimes()
	if !ok || total != 1000 || idle != 850 {
		t.Fatalf("total %d idle %d ok %v", total, idle, ok)
	}
	if _, _, ok := (Reader{Root: t.TempDir()}).CPUTimes(); ok {
		t.Fatal("missing /proc/stat reported ok")
	}
	if _, _, ok := System.CPUTimes(); !ok {
		t.Fatal("cannot read this machine's /proc/stat")
	}
}

func TestParsePower(t *testing.T) {
	for s, want := range map[string]Power{"mains": PowerMains, "battery": PowerBattery, "auto": PowerUnknown, "": PowerUnknown} {
		if got, ok := ParsePower(s); !ok || got != want {
			t.Errorf("%q: %v %v", s, got, ok)
		}
	}
	if _, ok := ParsePower("solar"); ok {
		t.Error("solar accepted")
	}
}
