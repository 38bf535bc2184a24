package node

import (
	"errors"
	"os/user"
	"testing"
)

func TestSuggestedName(t *testing.T) {
	for _, tc := range []struct {
		u    *user.User
		err  error
		want string
	}{
		{&user.User{Username: "ada", Name: "Ada Lovelace,,,"}, nil, "Ada Lovelace"},
		{&user.User{Username: "ada", Name: "  Ada   King ,Room 1,555"}, nil, "Ada King"},
		{&user.User{Username: "ada", Name: ""}, nil, "ada"},
		{&user.User{Username: "ada", Name: ",,,"}, nil, "ada"},
		{nil, errors.New("no passwd entry"), ""},
	} {
		got := suggestedName(func() (*user.User, error) { return tc.u, tc.err })
		if got != tc.want {
			t.Errorf("suggestedName(%+v) = %q, want %q", tc.u, got, tc.want)
		}
	}
}

// A name is chosen once SetName or --name stored one; the host name that
// stands in until then is not a choice.
func TestNameChosen(t *testing.T) {
	dir := t.TempDir()
	n := newTestNode(t, dir) // newTestNode passes --name "test"
	if !n.NameChosen() {
		t.Error("--name did not count as chosen")
	}
	n.Stop()
	n2, err := New(Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer n2.Stop()
	if n2.NameChosen() {
		t.Error("a fresh node says its name was chosen")
	}
	if n2.Self().Name == "" {
		t.Error("a fresh node has no name at all")
	}
}
