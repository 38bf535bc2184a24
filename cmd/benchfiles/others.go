package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"parley/internal/netlab"
	"parley/internal/procstat"
)

// What a user would use instead of Parley to move a file: OpenSSH's scp and
// Syncthing, each started by the benchmark inside the lab's namespaces with
// its own throwaway configuration, keys and state in a temporary folder.

// procCPU is a process's user+system time plus that of its reaped children, so a
// daemon that forks one child per session (sshd) is charged for the session once
// the child has been reaped; 0 once the process is gone.
func procCPU(pid int) time.Duration {
	d, _ := procstat.CPU(pid, true)
	return d
}

// rusageCPU is an exited child's user+system time (its waited-for children's
// included: scp's ssh).
func rusageCPU(ps *os.ProcessState) time.Duration {
	return ps.UserTime() + ps.SystemTime()
}

// waitNoChildren waits until pid has no live children, so procCPU includes
// the sessions that just ended.
func waitNoChildren(pid int, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
		if err != nil || strings.TrimSpace(string(b)) == "" {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// daemon is a process the benchmark started in a namespace and stops at the end.
type daemon struct {
	cmd *exec.Cmd
	out *os.File
}

func startDaemon(h *netlab.Host, logPath string, env []string, name string, args ...string) (*daemon, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := h.Command(context.Background(), name, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, err
	}
	return &daemon{cmd: cmd, out: log}, nil
}

func (d *daemon) pid() int { return d.cmd.Process.Pid }

func (d *daemon) stop() {
	d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		d.cmd.Process.Kill()
		<-done
	}
	d.out.Close()
}

// sshd is OpenSSH's server on port 2222 of h, with its own host key, a
// throwaway client key authorised for root, and nothing read from /etc/ssh.
type sshd struct {
	*daemon
	ip string
}

func startSSHD(h *netlab.Host, ip, dir, clientPub string) (*sshd, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	hostKey := filepath.Join(dir, "host_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("ssh-keygen: %v: %s", err, out)
	}
	pub, err := os.ReadFile(clientPub)
	if err != nil {
		return nil, err
	}
	auth := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(auth, pub, 0o600); err != nil {
		return nil, err
	}
	conf := strings.Join([]string{
		"Port 2222", "ListenAddress " + ip, "HostKey " + hostKey, "AuthorizedKeysFile " + auth,
		"PidFile none", "UsePAM no", "StrictModes no", "PermitRootLogin prohibit-password",
		"PasswordAuthentication no", "KbdInteractiveAuthentication no",
		// In-process SFTP: no login shell between sshd and the server, so the
		// figure is OpenSSH's own and not this machine's root .bashrc (which
		// ran pyenv on every session and cut scp to 5 MB/s).
		"Subsystem sftp internal-sftp",
	}, "\n") + "\n"
	cfg := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	// The privilege-separation directory sshd insists on (Debian's unit makes it).
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		return nil, err
	}
	d, err := startDaemon(h, filepath.Join(dir, "log"), nil, "/usr/sbin/sshd", "-D", "-e", "-f", cfg)
	if err != nil {
		return nil, err
	}
	s := &sshd{daemon: d, ip: ip}
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := h.Do(func() error {
			c, err := net.DialTimeout("tcp", net.JoinHostPort(ip, "2222"), time.Second)
			if err == nil {
				c.Close()
			}
			return err
		})
		if err == nil {
			return s, nil
		}
		if time.Now().After(deadline) {
			d.stop()
			b, _ := os.ReadFile(filepath.Join(dir, "log"))
			return nil, fmt.Errorf("sshd never listened: %v\n%s", err, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// scp copies src from host from to dst on s, with scp's default cipher. It
// returns the wall time of the scp process (connection and authentication
// included, as a user would wait) and the CPU of each end.
func scp(from *netlab.Host, key, src string, s *sshd, dst string) (time.Duration, time.Duration, time.Duration, error) {
	rx0 := procCPU(s.pid())
	cmd := from.Command(context.Background(), "scp", "-q", "-i", key, "-P", "2222",
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
		"-o", "LogLevel=ERROR", src, "root@"+s.ip+":"+dst)
	t0 := time.Now()
	out, err := cmd.CombinedOutput()
	el := time.Since(t0)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("scp: %v: %s", err, out)
	}
	waitNoChildren(s.pid(), 5*time.Second)
	return el, rusageCPU(cmd.ProcessState), procCPU(s.pid()) - rx0, nil
}

// syncthing is one Syncthing instance with a home in a temporary folder, its
// GUI/REST API on the namespace's loopback, and every way it could reach past
// the lab switched off in its configuration before it first starts: no global
// discovery, relays, NAT traversal, usage or crash reports, upgrades.
type syncthing struct {
	*daemon
	host *netlab.Host
	home string
	id   string
	key  string
	http *http.Client
}

func newSyncthing(h *netlab.Host, home string) (*syncthing, error) {
	if out, err := exec.Command("syncthing", "generate", "--home="+home, "--no-default-folder").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("syncthing generate: %v: %s", err, out)
	}
	out, err := exec.Command("syncthing", "serve", "--home="+home, "--device-id").Output()
	if err != nil {
		return nil, fmt.Errorf("syncthing device id: %w", err)
	}
	s := &syncthing{host: h, home: home, id: strings.TrimSpace(string(out)), key: "parleybench"}
	// REST calls dial from inside the namespace: the API listens on its loopback.
	s.http = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var c net.Conn
			err := h.Do(func() error {
				var err error
				c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
				return err
			})
			return c, err
		},
	}}
	return s, nil
}

// stFolder is one shared folder in a Syncthing configuration.
type stFolder struct {
	id, path string
	devices  []*syncthing
}

// configure writes s's config.xml: listen on ip, know the peers at their
// addresses, share folders. Folders are rescanned only when the benchmark asks
// (POST /rest/db/scan), so the clock starts at the file's appearance and
// Syncthing's watcher delay is not counted against it.
func (s *syncthing) configure(ip string, peers map[*syncthing]string, folders []stFolder) error {
	var b strings.Builder
	b.WriteString("<configuration version=\"36\">\n")
	for _, f := range folders {
		fmt.Fprintf(&b, "<folder id=%q label=%q path=%q type=\"sendreceive\" rescanIntervalS=\"3600\" fsWatcherEnabled=\"false\" autoNormalize=\"true\">\n", f.id, f.id, f.path)
		for _, d := range f.devices {
			fmt.Fprintf(&b, "<device id=%q></device>\n", d.id)
		}
		b.WriteString("</folder>\n")
	}
	fmt.Fprintf(&b, "<device id=%q name=\"self\"><address>dynamic</address></device>\n", s.id)
	for p, addr := range peers {
		fmt.Fprintf(&b, "<device id=%q name=\"peer\"><address>tcp://%s</address></device>\n", p.id, net.JoinHostPort(addr, "22000"))
	}
	fmt.Fprintf(&b, "<gui enabled=\"true\" tls=\"false\"><address>127.0.0.1:8384</address><apikey>%s</apikey></gui>\n", s.key)
	fmt.Fprintf(&b, `<options>
<listenAddress>tcp://%s</listenAddress>
<globalAnnounceEnabled>false</globalAnnounceEnabled>
<localAnnounceEnabled>false</localAnnounceEnabled>
<relaysEnabled>false</relaysEnabled>
<natEnabled>false</natEnabled>
<urAccepted>-1</urAccepted>
<autoUpgradeIntervalH>0</autoUpgradeIntervalH>
<crashReportingEnabled>false</crashReportingEnabled>
<startBrowser>false</startBrowser>
<stunKeepaliveStartS>0</stunKeepaliveStartS>
<stunKeepaliveMinS>0</stunKeepaliveMinS>
<announceLANAddresses>false</announceLANAddresses>
</options>
</configuration>
`, net.JoinHostPort(ip, "22000"))
	for _, f := range folders {
		if err := os.MkdirAll(filepath.Join(f.path, ".stfolder"), 0o755); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(s.home, "config.xml"), []byte(b.String()), 0o600)
}

func (s *syncthing) start() error {
	var err error
	s.daemon, err = startDaemon(s.host, filepath.Join(s.home, "log"),
		// STMONITORED: run in place, without the monitor parent that would
		// otherwise fork the real process (whose CPU /proc/PID would miss).
		[]string{"STNORESTART=1", "STNOUPGRADE=1", "STNODEFAULTFOLDER=1", "STMONITORED=1"},
		"syncthing", "serve", "--home="+s.home, "--no-browser", "--no-restart", "--no-upgrade", "--skip-port-probing")
	return err
}

func (s *syncthing) get(path string, v any) error {
	req, _ := http.NewRequest("GET", "http://127.0.0.1:8384"+path, nil)
	req.Header.Set("X-API-Key", s.key)
	resp, err := s.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("GET %s: %s: %s", path, resp.Status, b)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func (s *syncthing) post(path string) error {
	req, _ := http.NewRequest("POST", "http://127.0.0.1:8384"+path, nil)
	req.Header.Set("X-API-Key", s.key)
	resp, err := s.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("POST %s: %s: %s", path, resp.Status, b)
	}
	return nil
}

// waitReady waits until s answers, is connected to peer and its folder is idle.
func (s *syncthing) waitReady(peer *syncthing, folder string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		var conns struct {
			Connections map[string]struct{ Connected bool }
		}
		var st struct{ State string }
		if last = s.get("/rest/system/connections", &conns); last == nil {
			if !conns.Connections[peer.id].Connected {
				last = fmt.Errorf("not connected to %s", peer.id[:7])
			} else if last = s.get("/rest/db/status?folder="+folder, &st); last == nil && st.State != "idle" {
				last = fmt.Errorf("folder %s %s", folder, st.State)
			}
		}
		if last == nil {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	b, _ := os.ReadFile(filepath.Join(s.home, "log"))
	return fmt.Errorf("syncthing in %s not ready: %v\n%s", s.host.Name, last, tail(b, 3000))
}

func tail(b []byte, n int) []byte { return b[max(0, len(b)-n):] }

// syncFile makes src appear in the sender's folder (a hard link: one atomic
// step), asks the sender to rescan it at once and waits until the receiver
// has the complete file under its final name (Syncthing pulls into a
// temporary file and renames it once every block is verified). It returns
// that time and the CPU of both processes over it.
func syncFile(snd, rcv *syncthing, folder, src, sndDir, rcvDir string, size int) (time.Duration, time.Duration, time.Duration, error) {
	name := filepath.Base(src)
	tx0, rx0 := procCPU(snd.pid()), procCPU(rcv.pid())
	t0 := time.Now()
	if err := os.Link(src, filepath.Join(sndDir, name)); err != nil {
		return 0, 0, 0, err
	}
	if err := snd.post("/rest/db/scan?folder=" + folder + "&sub=" + name); err != nil {
		return 0, 0, 0, err
	}
	final := filepath.Join(rcvDir, name)
	deadline := t0.Add(5 * time.Minute)
	for {
		if fi, err := os.Stat(final); err == nil && fi.Size() == int64(size) {
			break
		}
		if time.Now().After(deadline) {
			return 0, 0, 0, fmt.Errorf("syncthing: %s never arrived", final)
		}
		time.Sleep(5 * time.Millisecond)
	}
	el := time.Since(t0)
	return el, procCPU(snd.pid()) - tx0, procCPU(rcv.pid()) - rx0, nil
}

// plainTCP runs the ceiling: this binary as a receiver on rcv (listening on
// ip) and as a sendfile sender on snd. It returns the receiver's accept →
// synced time and each process's CPU.
func plainTCP(snd, rcv *netlab.Host, ip, src, dst string) (time.Duration, time.Duration, time.Duration, error) {
	self, err := os.Executable()
	if err != nil {
		return 0, 0, 0, err
	}
	addr := net.JoinHostPort(ip, "40002")
	rc := rcv.Command(context.Background(), self, "-tcp-recv", addr, "-tcp-file", dst)
	stdout, err := rc.StdoutPipe()
	if err != nil {
		return 0, 0, 0, err
	}
	rc.Stderr = os.Stderr
	if err := rc.Start(); err != nil {
		return 0, 0, 0, err
	}
	defer rc.Process.Kill()
	r := bufio.NewReader(stdout)
	if line, err := readLine(r, 10*time.Second); err != nil || strings.TrimSpace(line) != "listening" {
		rc.Process.Kill()
		rc.Wait()
		return 0, 0, 0, fmt.Errorf("plain TCP receiver: %q %v", line, err)
	}
	sc := snd.Command(context.Background(), self, "-tcp-send", addr, "-tcp-file", src)
	if out, err := sc.CombinedOutput(); err != nil {
		return 0, 0, 0, fmt.Errorf("plain TCP sender: %v: %s", err, out)
	}
	line, err := readLine(r, time.Minute)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("plain TCP receiver: %w", err)
	}
	if err := rc.Wait(); err != nil {
		return 0, 0, 0, fmt.Errorf("plain TCP receiver: %w", err)
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(line), 10, 64)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("plain TCP receiver said %q", line)
	}
	return time.Duration(ns), rusageCPU(sc.ProcessState), rusageCPU(rc.ProcessState), nil
}
