// Command parley is a serverless LAN communicator. This file only parses flags and
// hands the core (package node) to a skin: the desktop window (package app) by
// default, or JSON lines on stdin/stdout with --headless (package headless).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"fyne.io/fyne/v2"

	"parley/app"
	"parley/headless"
	"parley/internal/autostart"
	"parley/internal/team"
	"parley/internal/trayhost"
	"parley/node"
	"parley/sip"
	"parley/store"
	"parley/web"
)

var version = "0.1.0-dev"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "parley:", err)
		os.Exit(1)
	}
}

func run() error {
	var err error
	var (
		headlessMode = flag.Bool("headless", false, "run without a window, driven by JSON lines on stdin/stdout")
		dataDir      = flag.String("data", defaultDataDir(), "data directory (identity key, database); overrides the folder chosen in the settings")
		name         = flag.String("name", "", "display name (kept for later runs)")
		listen       = flag.String("listen", "", "link listener host:port (default: port 48556 on the interfaces in use, else any free port)")
		accept       = flag.String("accept", "lan", "who may open links to this node: lan (sources on the subnets of the interfaces in use) or any (also peers behind a router, added by address)")
		ifaces       = flag.String("iface", "", "comma-separated interfaces to discover on (default: the ones chosen in settings, else all)")
		disc         = flag.String("discovery", "both", "discovery sources: both, mdns, beacon or none")
		logLevel     = flag.String("log-level", "info", "log level: debug, info, warn, error")
		beaconPort   = flag.Int("beacon-port", 0, "beacon UDP port (default 48555)")
		power        = flag.String("power", "auto", "power source for relay selection: auto, mains or battery")
		probeEvery   = flag.Duration("probe-interval", 10*time.Minute, "how often each link's capacity is probed (64 KiB per probe)")
		qualityEvery = flag.Duration("quality-interval", 30*time.Second, "least time between two publications of this node's link quality (material changes only)")
		costMap      = flag.String("cost-map", "", "administrator's cost map file (costs between address prefixes)")
		costSigner   = flag.String("cost-map-signer", "", "peer ID trusted to sign the cost map the overlay carries (kept in the settings; none: forget it)")
		showVersion  = flag.Bool("version", false, "print the version and exit")
		control      = flag.Bool("control", false, "with the window: also accept headless JSON commands on stdin (scripts, tests)")
		audioIn      = flag.String("audio-in", "", "call audio source: device, device:NAME, null, tone:HZ or FILE.wav (default: the one chosen in settings, else device)")
		audioOut     = flag.String("audio-out", "", "call audio sink: device, device:NAME, null or FILE.wav (default: the one chosen in settings, else device)")
		ringTimeout  = flag.Duration("ring-timeout", 30*time.Second, "how long an unanswered call rings")
		teamFile     = flag.String("team-file", "", "team invitation file, made by --new-team (a closed team network; also $PARLEY_TEAM)")
		newTeam      = flag.String("new-team", "", "write an invitation for a new closed team to this file and exit (passphrase: $PARLEY_TEAM, else generated)")
		relayPort    = flag.Int("relay-port", 0, "UDP port of this node's TURN relay for others' calls (default 48557)")
		downloads    = flag.String("downloads", "", "folder accepted files land in (default: the one chosen in settings, else the Downloads folder; DATA/downloads when headless or with another instance's --data, except on Windows)")
		webAddr      = flag.String("web", ":"+web.DefaultPort, "guest web page (HTTPS): host:port, :port on the link addresses and loopback, or off")
		guests       = flag.String("guests", "ask", "who may join through this node from a browser: open, ask (admit each one) or off")
		sipAddr      = flag.String("sip", "", "SIP registrar for phones on host:port, UDP and TCP, e.g. :5060 (default off; docs/sip.md)")
		sipMinExp    = flag.Duration("sip-min-expires", time.Minute, "shortest SIP registration accepted (shorter asks get 423)")
	)
	flag.Parse()
	if *showVersion {
		fmt.Println("parley", version)
		return nil
	}
	if *newTeam != "" {
		return writeInvitation(*newTeam, os.Getenv("PARLEY_TEAM"))
	}
	dataByFlag := false
	flag.Visit(func(f *flag.Flag) { dataByFlag = dataByFlag || f.Name == "data" })
	if *dataDir, err = chosenDataDir(*dataDir, dataByFlag); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	stopProfile, err := startProfile()
	if err != nil {
		return err
	}
	defer stopProfile()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(log)

	cfg := node.Config{DataDir: *dataDir, Name: *name, Listen: *listen, BeaconPort: *beaconPort, Log: log,
		Power: *power, ProbeInterval: *probeEvery, QualityInterval: *qualityEvery, CostMap: *costMap, CostMapSigner: *costSigner,
		AudioIn: *audioIn, AudioOut: *audioOut, RelayPort: *relayPort, RingTimeout: *ringTimeout,
		Downloads: *downloads}
	switch *accept {
	case "lan":
	case "any":
		cfg.AcceptAny = true
	default:
		return fmt.Errorf("--accept: %q is neither lan nor any", *accept)
	}
	invitation, err := teamInvitation(*teamFile)
	if err != nil {
		return err
	}
	cfg.Team = invitation
	if cfg.Guests, err = node.ParseGuestMode(*guests); err != nil {
		return fmt.Errorf("--guests: %w", err)
	}
	cfg.WebPort = node.WebPortOf(*webAddr) // the desktop's "Invite a guest" URLs
	switch *disc {
	case "both":
		cfg.Beacons, cfg.MDNS = true, true
	case "mdns":
		cfg.MDNS = true
	case "beacon":
		cfg.Beacons = true
	case "none":
	default:
		return fmt.Errorf("--discovery: want both, mdns, beacon or none, got %q", *disc)
	}
	if *ifaces != "" {
		cfg.Ifaces = strings.Split(*ifaces, ",")
	}
	if !*headlessMode && !haveDisplay() {
		fmt.Fprintln(os.Stderr, "parley: no display (DISPLAY/WAYLAND_DISPLAY unset); running headless (JSON lines on stdin/stdout, see docs/headless.md)")
		*headlessMode = true
	}
	// The user's Downloads folder is the default for the window's own instance
	// (and on Windows for every instance, as before); the settings change it.
	if runtime.GOOS == "windows" || !*headlessMode && userInstance(*dataDir, dataByFlag) {
		cfg.DownloadsDefault = defaultDownloads()
	}
	n, err := node.New(cfg)
	if err != nil {
		if *headlessMode {
			return err
		}
		// The window's user double-clicked Parley while it runs: show that one.
		if errors.Is(err, store.ErrInUse) && activateRunning(*dataDir) {
			fmt.Fprintln(os.Stderr, "parley: already running on this data folder; brought its window forward")
			return nil
		}
		app.ShowStartError(err)
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *webAddr != "off" {
		// Made before Start, so the first record already carries its fingerprint.
		if _, err := n.WebCertificate(); err != nil {
			n.Stop()
			return err
		}
	}
	if err := n.Start(ctx); err != nil {
		n.Stop()
		return err
	}
	if *webAddr != "off" {
		go web.Start(ctx, n, *webAddr, *dataDir, log)
	}
	var phones *sip.Server
	sipListen, sipByFlag := *sipAddr, *sipAddr != ""
	if !sipByFlag {
		sipListen = n.SIPListen() // Settings → Phones: from this start on
	}
	if sipListen != "" {
		if phones, err = sip.Start(n, sip.Config{Addr: sipListen, MinExpires: *sipMinExp}); err != nil {
			if sipByFlag {
				n.Stop()
				return fmt.Errorf("--sip: %w", err)
			}
			// A setting must not keep Parley from starting (a port taken by another program).
			log.Warn("SIP registrar not started", "addr", sipListen, "err", err)
			phones, sipListen = nil, ""
		}
	}
	if *headlessMode {
		err = headless.Run(ctx, n, os.Stdin, os.Stdout)
	} else {
		if *control {
			// A second skin on the same core: its own event stream, so the window and
			// the script each see every event.
			go func() {
				headless.Run(ctx, subscribed{Node: n, ch: n.Subscribe()}, os.Stdin, os.Stdout)
				// quit (or the end of input) on the control stream closes the window too.
				fyne.Do(func() { fyne.CurrentApp().Quit() })
			}()
		}
		activate, aerr := listenActivate(*dataDir, ctx.Done(), log)
		if aerr != nil {
			log.Warn("a second start will not find this window", "err", aerr)
		}
		err = app.Run(n, app.Options{DataDir: *dataDir, Activate: activate, Stop: ctx.Done(), DataDirByFlag: dataByFlag, SetDataDir: setDataDir,
			Listen: *listen, Ifaces: cfg.Ifaces, Discovery: *disc, Version: version,
			SIPAddr: sipListen, SIPByFlag: sipByFlag, // app/sipsettings.go
			TrayAvailable:   trayhost.Available(), // loginstart.go, app/background.go
			StartAtLogin:    func() (bool, error) { return autostart.Enabled(app.AppID) },
			SetStartAtLogin: setStartAtLogin(*dataDir, dataByFlag)})
	}
	if phones != nil {
		phones.Close() // the phones' nodes say goodbye through this node's links
	}
	n.Stop()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// subscribed gives the headless skin its own event subscription next to the window.
type subscribed struct {
	*node.Node
	ch <-chan node.Event
}

func (s subscribed) Events() <-chan node.Event { return s.ch }

// haveDisplay reports whether a window can open. Only X11/Wayland systems can be
// without one (a server, an SSH session); Windows and macOS always have a desktop.
func haveDisplay() bool {
	switch runtime.GOOS {
	case "windows", "darwin":
		return true
	}
	return os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""
}

// teamInvitation reads the team invitation from a file (its first line) or
// $PARLEY_TEAM — never from a flag, where every user of the machine could read
// it in the process list. node.New parses and checks it (package team).
func teamInvitation(file string) (string, error) {
	if file == "" {
		return os.Getenv("PARLEY_TEAM"), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("--team-file: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimRight(line, "\r")
	if line == "" {
		return "", fmt.Errorf("--team-file %s: the first line is empty", file)
	}
	if _, err := team.ParseInvitation(line); err != nil {
		return "", fmt.Errorf("--team-file %s: %w", file, err)
	}
	if st, err := os.Stat(file); err == nil && st.Mode().Perm()&0o077 != 0 && runtime.GOOS != "windows" {
		// The invitation is the team's secret (salt and passphrase).
		slog.Warn("team invitation file is readable by other users", "path", file, "mode", st.Mode().Perm())
	}
	return line, nil
}

// writeInvitation makes a new team: an invitation (a fresh salt and the
// passphrase, generated if empty) written to file, which must not exist yet.
func writeInvitation(file, passphrase string) error {
	var inv team.Invitation
	var err error
	if passphrase == "" {
		inv, err = team.GenerateInvitation()
	} else {
		inv, err = team.NewInvitation(passphrase)
	}
	if err != nil {
		return fmt.Errorf("--new-team: %w", err)
	}
	f, err := os.OpenFile(file, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("--new-team: %w", err)
	}
	_, werr := f.WriteString(inv.String() + "\n")
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("--new-team: %w", err)
	}
	fmt.Printf("wrote a new team's invitation to %s; give this file to each member "+
		"(it is the team's secret), who starts Parley with --team-file %s\n", file, file)
	return nil
}
