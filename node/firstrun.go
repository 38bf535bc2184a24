package node

import (
	"os/user"
	"strings"
)

// NameChosen says whether a display name was ever chosen (through SetName or
// --name) rather than taken from the host name: a skin asks for one on the
// first run while it was not.
func (n *Node) NameChosen() bool {
	v, ok, _ := n.db.Setting("name")
	return ok && strings.TrimSpace(v) != ""
}

// SuggestedName is the name a first run offers: the operating system user's
// full name (on Unix the first field of the GECOS entry), else the login name;
// never the host name, which names the machine, not its user.
func (n *Node) SuggestedName() string { return suggestedName(user.Current) }

func suggestedName(current func() (*user.User, error)) string {
	u, err := current()
	if err != nil {
		return ""
	}
	if name := gecosName(u.Name); name != "" {
		return truncate(name, 64)
	}
	return truncate(u.Username, 64)
}

// gecosName is the full name in a GECOS field, "Full Name,Room,Work
// phone,Home phone,Other" (os/user leaves the commas in some builds), with
// the "&" convention (the login name, capitalised) left alone as rare.
func gecosName(gecos string) string {
	name, _, _ := strings.Cut(gecos, ",")
	return strings.Join(strings.Fields(name), " ")
}
