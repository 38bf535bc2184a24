package discovery

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"parley/identity"
	"parley/internal/team"
)

// ServiceType is the DNS-SD service Parley advertises.
const ServiceType = "_parley._tcp"

// txtVersion is the value of the v= key this build writes and understands.
const txtVersion = "1"

// ServiceInfo is what a DNS-SD TXT record says about a peer.
type ServiceInfo struct {
	ID   identity.PeerID
	Port uint16
	Name string
	// Team is the closed-team tag (TXT key "team", base64url of
	// team.Tag("mdns", peer ID [16], port u16)); empty for an open node.
	Team string
}

// EncodeTXT renders info as RFC 6763 key=value strings.
func EncodeTXT(info ServiceInfo) []string {
	txt := []string{"id=" + info.ID.String(), "v=" + txtVersion, "port=" + strconv.Itoa(int(info.Port))}
	if info.Name != "" {
		name := info.Name
		if len(name) > 64 {
			name = name[:64]
		}
		txt = append(txt, "name="+name)
	}
	if info.Team != "" {
		txt = append(txt, "team="+info.Team)
	}
	return txt
}

// ParseTXT reads TXT strings per RFC 6763 §6: keys are case-insensitive, the first
// occurrence of a key wins, unknown keys are ignored. id and port are required; a v=
// other than ours is refused so a future incompatible format is not misread.
func ParseTXT(fields []string) (ServiceInfo, error) {
	var info ServiceInfo
	seen := map[string]string{}
	for _, f := range fields {
		k, v, _ := strings.Cut(f, "=")
		k = strings.ToLower(k)
		if k == "" {
			continue
		}
		if _, dup := seen[k]; !dup {
			seen[k] = v
		}
	}
	if v, ok := seen["v"]; ok && v != txtVersion {
		return info, fmt.Errorf("txt: unsupported version %q", v)
	}
	idText, ok := seen["id"]
	if !ok {
		return info, fmt.Errorf("txt: missing id")
	}
	id, err := identity.ParsePeerID(idText)
	if err != nil {
		return info, fmt.Errorf("txt: %w", err)
	}
	if id.IsZero() {
		// No key hashes to the zero ID, and a zero ID would turn the dialer's key
		// check off (overlay treats it as "whoever answers").
		return info, fmt.Errorf("txt: zero peer id")
	}
	port, err := strconv.ParseUint(seen["port"], 10, 16)
	if err != nil || port == 0 {
		return info, fmt.Errorf("txt: bad port %q", seen["port"])
	}
	info.ID, info.Port, info.Name, info.Team = id, uint16(port), seen["name"], seen["team"]
	return info, nil
}

// mdnsTeamTag is the TXT team value of a member announcing id and port.
func mdnsTeamTag(key *team.Key, id identity.PeerID, port uint16) string {
	return base64.RawURLEncoding.EncodeToString(key.Tag("mdns", id[:], []byte{byte(port >> 8), byte(port)}))
}
