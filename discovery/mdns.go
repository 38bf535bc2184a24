package discovery

import (
	"context"
	"crypto/subtle"
	"io"
	"log"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/hashicorp/mdns"
)

// mdnsQueryTimeout is how long one one-shot query listens for answers.
const mdnsQueryTimeout = 400 * time.Millisecond

// mdnsBackoff is the browse schedule after start or an interface change: the library
// has no continuous browse, so we re-query, quickly at first, then every 30 s.
var mdnsBackoff = []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second}

// mdnsSpacing is, once the start-up schedule is over, the mean gap between two
// browse queries on a link that all its nodes together aim for: every query is
// heard by every node and answered by every peer, so n nodes querying every 30 s
// cost each node n queries and their answers per 30 s. A node that knows n
// neighbours re-queries every max(30 s, n × mdnsSpacing): as before up to 30
// neighbours, every 200 s among 200. Beacons find newcomers meanwhile.
// cmd/benchhall re-measures the traffic.
const mdnsSpacing = time.Second

// mdnsPeriod is the wait after the step-th browse of a node that knows n neighbours.
func mdnsPeriod(step, n int) time.Duration {
	if step < len(mdnsBackoff)-1 {
		return mdnsBackoff[step]
	}
	// At most 5 minutes: the table can be inflated by throwaway keys.
	return max(mdnsBackoff[len(mdnsBackoff)-1], min(5*time.Minute, time.Duration(n)*mdnsSpacing))
}

// quietLogger swallows hashicorp/mdns's log.Printf chatter (it logs every unparsable
// packet on the shared port); our own counters say what matters.
var quietLogger = log.New(io.Discard, "", 0)

func (s *Service) runMDNS(ctx context.Context) {
	var servers []*mdns.Server
	stopServers := func() {
		for _, srv := range servers {
			srv.Shutdown()
		}
		servers = nil
	}
	defer stopServers()
	step := 0
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.rescan:
			// Interfaces changed: advertise on the new set and browse from the start.
			stopServers()
			servers = s.startMDNSServers()
			step = 0
			timer.Reset(0)
			continue
		case <-timer.C:
		}
		if servers == nil {
			servers = s.startMDNSServers()
		}
		s.browseOnce(ctx)
		timer.Reset(mdnsPeriod(step, s.table.Len()))
		step++
	}
}

// startMDNSServers advertises _parley._tcp with one responder per interface, because
// the library joins the multicast group on a single interface per server. Each
// responder has its own instance name ("<id>-<iface>") listing only that interface's
// addresses: the library's browser keeps one address per instance, and a dual-homed
// peer must not hand one segment the address of the other.
func (s *Service) startMDNSServers() []*mdns.Server {
	id := s.cfg.Identity.ID.String()
	info := ServiceInfo{ID: s.cfg.Identity.ID, Port: s.cfg.LinkPort, Name: s.cfg.Name()}
	if s.cfg.Team != nil {
		info.Team = mdnsTeamTag(s.cfg.Team, info.ID, info.Port)
	}
	txt := EncodeTXT(info)
	var servers []*mdns.Server
	for _, ifc := range s.currentInterfaces() {
		ifc := ifc
		var ips []net.IP
		for _, a := range InterfaceAddrs([]net.Interface{ifc}) {
			ips = append(ips, a.WithZone("").AsSlice())
		}
		if len(ips) == 0 {
			continue
		}
		instance := id + "-" + ifc.Name
		zone, err := mdns.NewMDNSService(instance, ServiceType, "local.", instance+".local.", int(s.cfg.LinkPort), ips, txt)
		if err != nil {
			s.log.Warn("mdns service", "iface", ifc.Name, "err", err)
			continue
		}
		srv, err := mdns.NewServer(&mdns.Config{Zone: zone, Iface: ifacePtr(ifc), Logger: quietLogger})
		if err != nil {
			s.log.Warn("mdns responder", "iface", ifc.Name, "err", err)
			continue
		}
		servers = append(servers, srv)
	}
	return servers
}

// browseOnce runs one query per interface in parallel. The entries channel is drained
// at once (the library drops answers when it is full), but the entries are only read
// after the query returns: the library keeps writing to an entry it has already
// sent when more answers for the same instance arrive, so reading it earlier is a
// data race (seen under -race).
func (s *Service) browseOnce(ctx context.Context) {
	var wg sync.WaitGroup
	for _, ifc := range s.currentInterfaces() {
		ifc := ifc
		wg.Add(1)
		go func() {
			defer wg.Done()
			entries := make(chan *mdns.ServiceEntry, 64)
			var got []*mdns.ServiceEntry
			drained := make(chan struct{})
			go func() {
				defer close(drained)
				for e := range entries {
					got = append(got, e)
				}
			}()
			params := &mdns.QueryParam{
				Service: ServiceType, Domain: "local", Timeout: mdnsQueryTimeout,
				Interface: ifacePtr(ifc), Entries: entries, Logger: quietLogger,
			}
			if err := mdns.QueryContext(ctx, params); err != nil {
				s.stats.Add("mdns_query_errors", 1)
				s.log.Debug("mdns query", "iface", ifc.Name, "err", err)
			}
			close(entries)
			<-drained
			for _, e := range got {
				s.handleMDNSEntry(e, ifc)
			}
		}()
	}
	wg.Wait()
	s.stats.Add("mdns_queries", 1)
}

func (s *Service) handleMDNSEntry(e *mdns.ServiceEntry, ifc net.Interface) {
	s.stats.Add("mdns_received", 1)
	info, err := ParseTXT(e.InfoFields)
	if err != nil {
		s.stats.Add("mdns_drop_txt", 1)
		return
	}
	if info.ID == s.cfg.Identity.ID {
		return
	}
	switch {
	case s.cfg.Team != nil && subtle.ConstantTimeCompare([]byte(info.Team), []byte(mdnsTeamTag(s.cfg.Team, info.ID, info.Port))) != 1:
		s.stats.Add("mdns_drop_team", 1)
		return
	case s.cfg.Team == nil && info.Team != "":
		s.stats.Add("mdns_foreign_team", 1)
		return
	}
	var ip netip.Addr
	if e.AddrV4 != nil {
		ip, _ = netip.AddrFromSlice(e.AddrV4.To4())
	} else if e.AddrV6IPAddr != nil {
		ip, _ = netip.AddrFromSlice(e.AddrV6IPAddr.IP)
		if ip.IsLinkLocalUnicast() {
			ip = ip.WithZone(ifc.Name)
		}
	}
	if !ip.IsValid() {
		s.stats.Add("mdns_drop_addr", 1)
		return
	}
	// The SRV port is authoritative for DNS-SD; the TXT port is our own cross-check.
	port := uint16(e.Port)
	if port == 0 {
		port = info.Port
	}
	s.observe(Sighting{ID: info.ID, Addr: netip.AddrPortFrom(ip, port), Source: SourceMDNS, Name: info.Name})
}
